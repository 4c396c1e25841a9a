#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A stand-in for the user's browser in the login tests ($BROWSER).

usage: browser.py URL

GETs the authorize URL (trusting $GRAPH_TEST_CA), fills the emulator's
sign-in form with the TAP in $GRAPH_TEST_TAP when one is shown, and
follows the redirect to the loopback listener, as a browser would.
$GRAPH_TEST_BROWSER_LOG, if set, gets one line per hop (never the query).
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


def log(msg):
    p = os.environ.get("GRAPH_TEST_BROWSER_LOG")
    if p:
        with open(p, "a") as f:
            f.write(msg + "\n")


def open_url(opener, url, data=None):
    try:
        r = opener.open(urllib.request.Request(url, data=data), timeout=20)
        return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def main():
    url = sys.argv[1]
    ca = os.environ.get("GRAPH_TEST_CA")
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
            form.fields["tap"] = os.environ.get("GRAPH_TEST_TAP", "")
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
