# Examples for python.yaml: `semgrep --test .ci/semgrep/` checks that each rule fires
# on the lines marked ruleid and stays quiet on the lines marked ok.
# ruff: noqa
import io
import urllib.request
from urllib.request import urlopen

import feedparser
import flask
import httpx
import markupsafe
import requests
from flask import Markup, redirect, render_template_string, request


def redirects():
    # ruleid: engage-open-redirect
    redirect(request.args.get("next"))
    # ruleid: engage-open-redirect
    redirect(request.form["next"])
    # ruleid: engage-open-redirect
    redirect(request.args.get("next") or "/")
    # ok: engage-open-redirect
    redirect(safe_next_url(request.args.get("next")) or "/")


def feeds(url, body):
    # ruleid: engage-feedparser-parse-non-bytes
    feedparser.parse(url)
    # ruleid: engage-feedparser-parse-non-bytes
    feedparser.parse("file:///etc/passwd")
    # ok: engage-feedparser-parse-non-bytes
    feedparser.parse(io.BytesIO(body), response_headers={"content-location": url})


def http(url):
    # ruleid: engage-http-without-timeout
    requests.get(url)
    # ok: engage-http-without-timeout
    requests.get(url, timeout=10)
    # ruleid: engage-http-without-timeout
    httpx.Client()
    # ok: engage-http-without-timeout
    httpx.Client(timeout=5)
    # ruleid: engage-http-without-timeout
    urllib.request.urlopen(url)
    # ok: engage-http-without-timeout
    urllib.request.urlopen(url, timeout=10)
    # ruleid: engage-http-without-timeout
    urlopen(url)


def html(name):
    # ruleid: engage-markup
    Markup("<b>%s</b>" % name)
    # ruleid: engage-markup
    markupsafe.Markup(name)
    # ruleid: engage-render-template-string
    render_template_string("Hello {{ name }}", name=name)
    # ruleid: engage-render-template-string
    flask.render_template_string(name)
