"""Composer bench: opening a reply, saving a draft, copying it to IMAP, and the JavaScript the composer loads.

All on 127.0.0.1, all throwaway: tests/servers' Dovecot (IMAPS) in a work directory under /tmp, a temporary
SQLite file (or a dropped-and-re-created PostgreSQL database when DATABASE_URL is set), gunicorn -w 2 with
production-like settings (WEBMAIL_DEBUG=0, collected static files). One message is in the INBOX: about 200 KB
of HTML with 5 attachments (40 KB each). Measured, each against a floor taken in the same run:

1. the Reply composer for that message, over HTTP from gunicorn (the server fetches the message from IMAP,
   quotes it, sanitizes its HTML): p50/p95 ms, against the empty composer (New message);
2. in a browser (Debian's Chromium, when installed): from navigation to DOMContentLoaded, by which the deferred
   scripts have set the editor up, p50/p95, against the empty composer; what the editor's start costs, piece by
   piece; and the wall time to ``[contenteditable=true]`` as Playwright sees it (its own round trips included);
3. a draft save's database write (``outbox.drafts.save``, in this process): p50/p95, against a one-row UPDATE
   of the same table;
4. a draft's IMAP copy (``outbox.draftcopy.mirror``: login, APPEND, SEARCH, STORE, EXPUNGE, logout):
   p50/p95, against an IMAP connect + login + logout;
5. the JavaScript the composer page loads (every ``<script src>``), raw and gzipped.

    .venv/bin/python bench/composer.py [--repeat 30] [--saves 200] [--timeout 600]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.harness import BenchError, p50_p95, quantiles, verdict  # noqa: E402
from bench.mailbox import ENV  # noqa: E402
from bench.mailbox_child import ADDRESS, PASSWORD  # noqa: E402
from bench.mailbox_setup import MailboxSetup  # noqa: E402

COMPOSER_P95_MS = 300.0  # the target for a usable composer
SAVE_P95_MS = 50.0  # and for a draft save's database write


def original_html() -> str:
    """About 200 KB of HTML: a newsletter-like table."""
    rows = "".join(
        f'<tr><td class="c{n % 7}">Line {n}</td><td><a href="https://example.org/item/{n}">item {n}</a></td>'
        f"<td><b>{n * 37 % 1000}</b> units, <i>shipped</i> on time</td></tr>\n"
        for n in range(1400)
    )
    head = "<head><style>td{padding:2px}</style></head>"
    return f"<html>{head}<body><h1>Figures</h1><table>{rows}</table></body></html>"


def original_message() -> bytes:
    """``original_html`` and five 40 KB attachments."""
    message = EmailMessage()
    message["From"] = "Ann Author <ann@example.org>"
    message["To"] = ADDRESS
    message["Subject"] = "Quarterly figures"
    message["Message-ID"] = "<bench-original@example.org>"
    message.set_content("Figures attached.\n")
    message.add_alternative(original_html(), subtype="html")
    for n in range(5):
        message.add_attachment(bytes(range(256)) * 160, maintype="application", subtype="pdf", filename=f"part{n}.pdf")
    return message.as_bytes()


# Measured in the open Reply composer: what its start costs the editor, piece by piece.
EDITOR_COSTS = """() => {
  const area = document.querySelector("[data-editor-area]");
  const html = area.dataset.initialHtml || area.innerHTML;
  const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
  return {
    size: Math.round(html.length / 1024),
    purify: time(() => DOMPurify.sanitize(html, {RETURN_DOM_FRAGMENT: true})),
    set: (() => {
      const spare = document.createElement("div");
      document.body.append(spare);
      const parse = (h) => { const t = document.createElement("template"); t.innerHTML = h; return t.content; };
      const squire = new Squire(spare, {blockTag: "DIV", sanitizeToDOMFragment: parse});
      const spent = time(() => squire.setHTML(html));
      spare.remove();
      return spent;
    })(),
  };
}"""


NAVIGATION = "JSON.stringify(performance.getEntriesByType('navigation')[0])"


class ComposerBench(MailboxSetup):
    def run(self) -> None:
        database = self.prepare_environment(ENV, "webmail_bench_composer")
        self.start_dovecot()
        import django

        django.setup()
        self.print_header(
            f"database: {database}; gunicorn -w 2 (sync), WEBMAIL_DEBUG=0; Dovecot {self.dovecot_version()} (IMAPS)",
            f"repeat: {self.args.repeat} page loads, {self.args.saves} saves, {self.args.mirrors} IMAP copies",
        )
        self.create_user()
        identity = self.create_identity()
        raw = original_message()
        uid = self.append("INBOX", raw)
        folder = self.folder_id("INBOX")
        html = len(original_html())
        self.row("original", f"{len(raw) / 1024:.0f} KiB: {html / 1024:.0f} KiB of HTML + 5 attachments, UID {uid}")
        self.start_gunicorn()
        reply = f"/outbox/compose/?folder={folder}&uid={uid}&how=reply"
        self.pages(reply)
        self.browser(reply)
        self.saves(identity)
        self.mirrors(identity)
        self.scripts(reply)
        self.load_row("end")

    def create_identity(self) -> Any:
        from accounts.models import Identity

        return Identity.objects.create(
            user=self.account.user, account=self.account, address=ADDRESS, display_name="Bench Writer", is_default=True
        )

    def append(self, folder: str, raw: bytes) -> int:
        with self.imap_client(timeout=60) as client:
            client.login(ADDRESS, PASSWORD)
            reply = client.append(folder, raw)
        found = re.search(rb"APPENDUID \d+ (\d+)", reply)
        if not found:
            raise BenchError(f"no APPENDUID in {reply!r}")
        return int(found.group(1))

    def pages(self, reply: str) -> None:
        self.get(reply)  # warm: the first request of each worker imports and compiles
        self.get("/outbox/compose/")
        timings: dict[str, list[float]] = {"new": [], "reply": []}
        for _ in range(self.args.repeat):
            timings["new"].append(self.get("/outbox/compose/")[0])
            timings["reply"].append(self.get(reply)[0])
        self.row("1. composer over HTTP: New message (floor)", p50_p95(timings["new"]))
        self.row("1. composer over HTTP: Reply, 200 KB HTML + 5 attachments", p50_p95(timings["reply"]))
        self.row("1. Reply / New, p50", f"{quantiles(timings['reply'])[0] / quantiles(timings['new'])[0]:.1f}x")

    def browser(self, reply: str) -> None:
        if not Path("/usr/bin/chromium").exists():
            self.row("2. composer in Chromium", "not measured: /usr/bin/chromium is not installed")
            return
        from playwright.sync_api import sync_playwright

        name, value = self.cookie.split("=", 1)
        wall: dict[str, list[float]] = {"new": [], "reply": []}
        ready: dict[str, list[float]] = {"new": [], "reply": []}  # DOMContentLoaded, from navigation
        response: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            context = browser.new_context(base_url=f"http://127.0.0.1:{self.port}")
            context.add_cookies([{"name": name, "value": value, "url": f"http://127.0.0.1:{self.port}"}])
            page = context.new_page()
            for n in range(self.args.repeat // 3 + 2):
                for label, path in (("new", "/outbox/compose/"), ("reply", reply)):
                    started = time.perf_counter()
                    page.goto(path, wait_until="domcontentloaded")
                    page.wait_for_selector("[contenteditable=true]", timeout=30_000)
                    spent = (time.perf_counter() - started) * 1000
                    navigation = json.loads(page.evaluate(NAVIGATION))
                    if n < 2:  # the first two warm the browser's cache and gunicorn's workers
                        continue
                    wall[label].append(spent)
                    ready[label].append(navigation["domContentLoadedEventEnd"])
                    if label == "reply":
                        response.append(navigation["responseEnd"])
            costs = page.evaluate(EDITOR_COSTS)
            browser.close()
        self.row(
            "2. composer in Chromium, editor set up (DOMContentLoaded): New message (floor)", p50_p95(ready["new"])
        )
        reply_p95 = quantiles(ready["reply"])[1]
        self.row(
            "2. composer in Chromium, editor set up (DOMContentLoaded): Reply",
            f"{p50_p95(ready['reply'])} ({verdict(reply_p95, COMPOSER_P95_MS)} the {COMPOSER_P95_MS:.0f} ms target)",
        )
        self.row("2. Reply: the page's last byte, from navigation", p50_p95(response))
        self.row(
            "2. Reply, in the page: DOMPurify of the start HTML (not done: cleaned on the server) / Squire setHTML",
            f"{costs['purify']:.0f} ms / {costs['set']:.0f} ms ({costs['size']} KiB)",
        )
        self.row(
            "2. wall time to an editable editor, as Playwright sees it: New / Reply",
            f"{p50_p95(wall['new'])} / {p50_p95(wall['reply'])}",
        )

    def saves(self, identity: Any) -> None:
        from outbox import drafts
        from outbox.models import SavedDraft

        user, draft_id = identity.user, uuid.uuid4()
        body = "A paragraph of a reply being written, long enough to be like one. " * 40  # ~2.7 KB
        typed = drafts.Fields(identity=identity, to="Ann <ann@example.org>", subject="Re: Quarterly figures")
        save_ms, floor_ms = [], []
        for n in range(self.args.saves):
            typed.body = body + str(n)
            started = time.perf_counter()
            drafts.save(user, draft_id, n, typed)
            save_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            SavedDraft.objects.filter(pk=draft_id).update(body=typed.body)
            floor_ms.append((time.perf_counter() - started) * 1000)
        self.row("3. draft save, one-row UPDATE (floor)", p50_p95(floor_ms))
        save_p95 = quantiles(save_ms)[1]
        self.row(
            "3. draft save, the database write (drafts.save)",
            f"{p50_p95(save_ms)} ({verdict(save_p95, SAVE_P95_MS)} the {SAVE_P95_MS:.0f} ms target)",
        )

    def mirrors(self, identity: Any) -> None:
        from django.utils import timezone

        from outbox import draftcopy, drafts
        from outbox.models import SavedDraft

        draft_id = uuid.uuid4()
        typed = drafts.Fields(identity=identity, to="ann@example.org", subject="Copied", body="Draft text.\n" * 50)
        mirror_ms, floor_ms = [], []
        for n in range(self.args.mirrors):
            drafts.save(identity.user, draft_id, n, typed)
            SavedDraft.objects.filter(pk=draft_id).update(mirror_due_at=timezone.now())
            started = time.perf_counter()
            draftcopy.mirror(str(draft_id))
            mirror_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with self.imap_client(timeout=30) as client:
                client.login(ADDRESS, PASSWORD)
                client.logout()
            floor_ms.append((time.perf_counter() - started) * 1000)
            if SavedDraft.objects.get(pk=draft_id).mirror_due_at is not None:
                raise BenchError("the draft's IMAP copy was not written")
        with self.imap_client(timeout=30) as client:
            client.login(ADDRESS, PASSWORD)
            copies = client.select_folder("Drafts", readonly=True)[b"EXISTS"]
        self.row("4. IMAP connect + login + logout (floor)", p50_p95(floor_ms))
        self.row("4. draft's IMAP copy (draftcopy.mirror)", f"{p50_p95(mirror_ms)}; copies in Drafts after: {copies}")
        self.row("4. copy / floor, p50", f"{quantiles(mirror_ms)[0] / quantiles(floor_ms)[0]:.1f}x")

    def scripts(self, reply: str) -> None:
        html = self.get(reply)[1].decode()
        sources = re.findall(r'<script src="([^"]+)"', html)
        raw = zipped = 0
        parts = []
        for source in sources:
            if source.startswith("/static/"):
                data = (self.tmp / "static" / source.removeprefix("/static/")).read_bytes()
            else:  # a view (the translation catalogue)
                data = self.get(source)[1]
            raw += len(data)
            zipped += len(gzip.compress(data, 9))
            parts.append(f"{re.sub(r'[.][0-9a-f]{12}[.]', '.', source.rsplit('/', 1)[-1])} {len(data) / 1024:.1f}")
        self.row("5. JavaScript the composer loads", f"{raw / 1024:.0f} KiB, {zipped / 1024:.0f} KiB gzipped")
        self.row("5. by file (KiB)", ", ".join(parts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30, help="page loads per kind (HTTP; a third in Chromium)")
    parser.add_argument("--saves", type=int, default=200, help="draft saves to time")
    parser.add_argument("--mirrors", type=int, default=30, help="IMAP copies to time")
    parser.add_argument("--timeout", type=float, default=600, help="overall limit in seconds")
    args = parser.parse_args()
    args.dovecot_setting = []
    return harness.run_bench(lambda tmp: ComposerBench(args, tmp), "webmail-bench-composer-")


if __name__ == "__main__":
    sys.exit(main())
