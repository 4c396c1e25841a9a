#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A stand-in for the user's browser in the login tests ($BROWSER).

usage: browser.py [--ca FILE] [--tap-file FILE] [--log FILE]
                  [--dump-env FILE] URL

GETs the authorize URL (trusting --ca, else $GRAPH_TEST_CA), fills the
emulator's sign-in form with the TAP read from --tap-file (else
$GRAPH_TEST_TAP) when one is shown, and follows the redirect to the
loopback listener, as a browser would.  --log (else
$GRAPH_TEST_BROWSER_LOG) gets one line per hop (never the query);
--dump-env writes the environment the browser was started with, one
NAME=VALUE a line.

provisioning starts the browser with a scrubbed environment (common/
env.c), so a test passes these as options in $BROWSER; the TAP comes
from a file, never argv.
"""

import html.parser
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a.get("name")] = a.get("value", "")


OPTS = {}


def log(msg):
    p = OPTS.get("log") or os.environ.get("GRAPH_TEST_BROWSER_LOG")
    if p:
        with open(p, "a") as f:
            f.write(msg + "\n")


def open_url(opener, url, data=None):
    try:
        r = opener.open(urllib.request.Request(url, data=data), timeout=20)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def parse(argv):
    args = list(argv)
    while len(args) > 1 and args[0] in ("--ca", "--tap-file", "--log",
                                        "--dump-env"):
        OPTS[args[0][2:]] = args[1]
        del args[:2]
    if len(args) != 1:
        sys.exit("usage: browser.py [--ca FILE] [--tap-file FILE] "
                 "[--log FILE] [--dump-env FILE] URL")
    return args[0]


def tap():
    if OPTS.get("tap-file"):
        with open(OPTS["tap-file"]) as f:
            return f.read().strip()
    return os.environ.get("GRAPH_TEST_TAP", "")


def main():
    url = parse(sys.argv[1:])
    if OPTS.get("dump-env"):
        with open(OPTS["dump-env"], "w") as f:
            for k, v in sorted(os.environ.items()):
                f.write("%s=%s\n" % (k, v))
    ca = OPTS.get("ca") or os.environ.get("GRAPH_TEST_CA")
    ctx = ssl.create_default_context(cafile=ca) if ca else \
        ssl.create_default_context()
    opener = urllib.request.build_opener(
        NoRedirect, urllib.request.HTTPSHandler(context=ctx))
    for _ in range(5):
        u = urllib.parse.urlsplit(url)
        log("%s %s://%s%s" % ("GET", u.scheme, u.netloc, u.path))
        status, headers, body = open_url(opener, url)
        if status in (301, 302, 303):
            url = urllib.parse.urljoin(url, headers["Location"])
            continue
        if status == 200 and b"<form" in body and u.scheme == "https":
            form = Form()
            form.feed(body.decode())
            form.fields["tap"] = tap()
            post = urllib.parse.urljoin(url, form.action)
            log("POST %s" % urllib.parse.urlsplit(post).path)
            status, headers, body = open_url(
                opener, post, urllib.parse.urlencode(form.fields).encode())
            if status in (301, 302, 303):
                url = urllib.parse.urljoin(post, headers["Location"])
                continue
        log("status %d" % status)
        return 0 if status == 200 else 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
