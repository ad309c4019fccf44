"""Which scanned series to send: the selection rules and the clinical date windows."""
