"""URL state: a view's choices in its query parameters, so that a link shows the same view, and a widget that
the URL seeds without snapping back (see `bind`)."""

from __future__ import annotations

from typing import Sequence

import streamlit as st


def qp(name: str, default: str | None = None) -> str | None:
    """?name='s value (the last, when repeated), else `default`. Read with get_all: a missing key read through
    st.query_params.get raises and catches a KeyError inside Streamlit's metrics wrapper, the dearest read of a
    page's dozen (a room of visitors pays it per parameter and per visit)."""
    values = st.query_params.get_all(name)
    return values[-1] if values else default


def has_qp(name: str) -> bool:
    """Whether the link has ?name= (see `qp` for why not `name in st.query_params`)."""
    return bool(st.query_params.get_all(name))


def qp_int(name: str, default: int, low: int, high: int) -> int:
    """An integer URL parameter within [low, high]; anything else falls back to `default`, and the page says so."""
    raw = qp(name)
    if raw is None:
        return max(low, min(default, high))
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        fallback = max(low, min(default, high))
        st.warning(f"Ignored `?{name}={raw[:40]}` in the link: expected a whole number from {low} to {high}. "
                   f"Using {fallback}.")
        return fallback
    return value


def qp_list(name: str) -> list[str]:
    return [v for v in st.query_params.get_all(name) if v]


def set_qp(name: str, value: str | Sequence[str] | None) -> None:
    """Keep a view's state in the URL so it can be shared; empty values are removed."""
    if value is None or value == "" or (not isinstance(value, str) and len(value) == 0):
        if has_qp(name):
            del st.query_params[name]
    elif isinstance(value, str):
        if qp(name) != value:
            st.query_params[name] = value
    elif st.query_params.get_all(name) != list(value):
        st.query_params[name] = list(value)


_WRITTEN = "_url_written"  # what the app itself last wrote into each query parameter


def _url_value(name: str, many: bool):
    return qp_list(name) if many else qp(name)


def bind(name: str, key: str, default, allowed: Sequence | None = None, many: bool = False,
         sticky: bool = False) -> None:
    """Make the widget with `key` show ?name=: seeded once, and again whenever the URL changed outside the
    app (the browser's Back, a pasted link). The widget then owns the value, so a second change never
    snaps back. A value the widget cannot take falls back to `default`, and the page says so.

    `sticky`: a link without ?name= (another page, st.switch_page) keeps the session's value, and the value
    is put back into the link. (Streamlit drops a widget's state on a page switch, so a copy is kept.)"""
    if not sticky:
        return _bind(name, key, default, allowed, many)
    kept = f"_kept_{key}"
    if key in st.session_state:
        st.session_state[kept] = st.session_state[key]
    if not has_qp(name) and st.session_state.get(kept):
        set_qp(name, st.session_state[kept])
        st.session_state.setdefault(_WRITTEN, {})[name] = _url_value(name, many)
    _bind(name, key, default, allowed, many)
    st.session_state[kept] = st.session_state[key]


def _bind(name: str, key: str, default, allowed: Sequence | None, many: bool) -> None:
    written = st.session_state.setdefault(_WRITTEN, {})
    raw = _url_value(name, many)
    if key in st.session_state and written.get(name, "<unset>") == raw:
        if allowed is None or (set(st.session_state[key]) <= set(allowed) if many
                               else st.session_state[key] in allowed):
            return
        st.session_state[key] = default  # the options changed under it (e.g. the other axis took this value)
        return
    if many:
        value = [v for v in raw if allowed is None or v in allowed]
        bad = [v for v in raw if v not in value]
    else:
        value = default if raw is None else raw
        bad = [raw] if raw is not None and allowed is not None and raw not in allowed else []
        if bad:
            value = default
    if bad:
        st.warning(f"Ignored `?{name}={str(bad[0])[:40]}` in the link: not one of the choices here.")
    st.session_state[key] = value if (value or not many) else (default or [])
    written[name] = raw


def publish(name: str, key: str, default=None) -> None:
    """Write the widget's value into ?name= (left out when it is the default) and remember it (see `bind`)."""
    value = st.session_state.get(key)
    set_qp(name, None if value == default else value)
    many = isinstance(value, (list, tuple))
    st.session_state.setdefault(_WRITTEN, {})[name] = _url_value(name, many)


def bind_flag(name: str, key: str, sticky: bool = False) -> None:
    """`bind` for an on/off switch: ?name=1 is on, absent (or 0) is off; anything else is off, with a message.
    `sticky`: as for `bind`, a link without ?name= keeps the session's value."""
    written = st.session_state.setdefault(_WRITTEN, {})
    kept = f"_kept_{key}"
    if sticky:
        if key in st.session_state:
            st.session_state[kept] = st.session_state[key]
        if not has_qp(name) and st.session_state.get(kept):
            set_qp(name, "1")
            written[name] = "1"
    _bind_flag(name, key, written)
    if sticky:
        st.session_state[kept] = st.session_state[key]


def _bind_flag(name: str, key: str, written: dict) -> None:
    raw = qp(name)
    if key in st.session_state and written.get(name, "<unset>") == raw:
        return
    if raw not in (None, "0", "1"):
        st.warning(f"Ignored `?{name}={raw[:40]}` in the link: expected 1 (on) or 0 (off). Using off.")
    st.session_state[key] = raw == "1"
    written[name] = raw


def publish_flag(name: str, key: str) -> None:
    """Write an on/off switch into ?name=1 (left out when off) and remember it (see `bind_flag`)."""
    set_qp(name, "1" if st.session_state.get(key) else None)
    st.session_state.setdefault(_WRITTEN, {})[name] = qp(name)


def qp_id(name: str) -> int | None:
    """A record id in ?name= (a positive whole number), else None; a malformed one is named on the page."""
    raw = qp(name)
    if raw is None:
        return None
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    st.warning(f"Ignored `?{name}={raw[:40]}` in the link: expected a run number.")
    return None


def current_url() -> str:
    """The full address of the current view (scheme, host, page and every query parameter), for sharing."""
    from urllib.parse import urlencode

    query = urlencode([(k, v) for k in st.query_params for v in st.query_params.get_all(k)])
    base = st.context.url or ""
    return base + ("?" + query if query else "")


def index_of(options: Sequence, value, default: int = 0) -> int:
    try:
        return list(options).index(value)
    except ValueError:
        return default


def keep(key: str, default) -> None:
    """A widget value that outlives a page switch or a run in which the widget is not drawn (Streamlit drops
    those): put back from the session's copy, else `default`. Call before the widget, which gets no default."""
    kept = f"_kept_{key}"
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(kept, default)
    st.session_state[kept] = st.session_state[key]
