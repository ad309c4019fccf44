"""The states a page can be in, and what each one shows, so headings, grids, buttons and the
bar always agree.

Why one model: each page used to set its heading, its grid and its buttons separately in
every handler, so after a failed open the grid still showed the previous sheet's patients,
and after an upload the heading still said "ready to upload". Now a page enters a state, and
the state decides what is visible and what may be pressed; the handlers only supply words.

- ``empty``: nothing chosen yet; the page says what to do first (one clear action).
- ``checking``: a file or folder is being read; the old content is gone already.
- ``problems``: the content is shown, with what stops it being sent.
- ``ready``: the content is shown and may be sent.
- ``uploading``: it is being sent; nothing else can be started.
- ``done``: it was sent; the heading says so (and when), never "ready" or "will be sent".
- ``failed``: reading or sending stopped; the message says why and what to do.
"""

from __future__ import annotations

from typing import Literal, get_args

PageState = Literal["empty", "checking", "problems", "ready", "uploading", "done", "failed"]
PAGE_STATES: tuple[PageState, ...] = get_args(PageState)
#: States in which the page shows what was read (the sheet grid, the series tree).
SHOWS_CONTENT: frozenset[PageState] = frozenset({"problems", "ready", "uploading", "done"})
