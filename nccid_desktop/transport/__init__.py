"""Getting pseudonymised records and de-identified images to the collection service, reliably.

``http`` (verified TLS, proxies, retries), ``multipart`` and ``stow`` (streamed DICOMweb STOW-RS),
``client`` (the service's API), ``outbox`` (the durable journal) and ``uploader`` (drives the
journal: resume after a crash, re-sign-in after an expired session).
"""
