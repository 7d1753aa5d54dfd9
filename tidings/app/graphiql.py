"""GraphiQL, served from files inside the package: no CDN, no network at run time.

The vendor files come from npm at build time (`make`, or the image's build
stage: `npm ci` checks them against package-lock.json's integrity hashes, then
`scripts/vendor-graphiql` copies them here).
"""

import re
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).with_name("graphiql_assets")
# Scripts and styles from this server only; GraphiQL sets inline styles and
# embeds its fonts as data: URLs.
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_MISSING = """<!doctype html><title>Tidings · GraphiQL</title>
<p>GraphiQL's files are not installed in this copy of Tidings. They come from npm
at build time: run <code>make</code> (which needs Node.js's <code>npm</code>), or
<code>npm ci &amp;&amp; scripts/vendor-graphiql</code>. The API at this address works
without them.</p>"""


def vendor_files_present() -> bool:
    """Whether every vendored file the page names is here."""
    named = re.findall(r'"/graphiql/vendor/([^"]+)"', (ASSETS / "graphiql.html").read_text())
    return bool(named) and all((ASSETS / "vendor" / name).is_file() for name in named)


class GraphiQLPage:
    """The page, read once; a response per browser that asks for it."""

    def __init__(self, endpoint: str) -> None:
        self.present = vendor_files_present()
        self.html = (
            (ASSETS / "graphiql.html").read_text().replace("{endpoint}", endpoint)
            if self.present
            else _MISSING
        )

    def response(self) -> HTMLResponse:
        return HTMLResponse(
            self.html,
            status_code=200 if self.present else 503,
            headers={
                "Content-Security-Policy": _POLICY,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )


def graphiql_assets() -> Mount:
    return Mount("/graphiql", StaticFiles(directory=ASSETS), name="graphiql")
