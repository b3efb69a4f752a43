"""readsync's web reader driven in a real browser: headless Chromium
(Debian's chromium and chromium-driver) through Selenium, as a person would
use it. Run by Tests/EndToEndTests/WebReaderTests.swift; prints one JSON
object of what it found on its last line, and exits non-zero with the
reason when the reader does not behave.

    web_reader.py edit URL USER PASSWORD TITLE QUOTE NOTE WORD SCREENSHOTS
    web_reader.py shows URL USER PASSWORD ARTICLE TEXT
    web_reader.py offline URL USER PASSWORD ARTICLE HANDSHAKE_FOLDER

In offline mode the test and this script take turns through files in
HANDSHAKE_FOLDER: this one writes "ready" and waits for "offline" (the
server stopped), writes "queued" and waits for "online" (started again).
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # Generous: the full test run loads both cores for many minutes.
    driver.implicitly_wait(20)
    return driver


def check(condition, message):
    if not condition:
        raise SystemExit("web reader: " + message)


def sign_in(driver, url, user, password):
    driver.get(url + "/")
    check("/signin" in driver.current_url, "a page without a session goes to sign-in, not " + driver.current_url)
    driver.find_element(By.ID, "name").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, ".signin button[type=submit]").click()
    # A click does not wait for the page it posts to: wait for the list.
    WebDriverWait(driver, 30).until(lambda d: "/signin" not in d.current_url)
    shown = driver.current_url
    check(shown == url + "/", "signed in, the list is shown, not " + shown)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(url, fields, cookie=None):
    """A form post outside the browser; its status and where it redirects."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.build_opener(NoRedirects).open(request) as answer:
            return answer.status, answer.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def get(url):
    try:
        with urllib.request.build_opener(NoRedirects).open(url) as answer:
            return answer.status, answer.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")


def edit(url, user, password, title, quote, note, word, screenshots):
    found = {}
    # Without a session: the list and a post both send the browser to sign in.
    found["list_without_session"] = get(url + "/")
    found["post_without_session"] = post(url + "/save", {"url": "https://example.org/"})
    driver = browser()
    try:
        # A wrong password is refused, on the sign-in page.
        driver.get(url + "/")
        driver.find_element(By.ID, "name").send_keys(user)
        driver.find_element(By.ID, "password").send_keys(password + "-wrong")
        driver.find_element(By.CSS_SELECTOR, ".signin button[type=submit]").click()
        problem = driver.find_element(By.CSS_SELECTOR, ".problem").text
        check("Wrong user name or password" in problem, "a wrong password is refused, the page said: " + problem)
        check("/signin" in driver.current_url, "still on the sign-in page after a wrong password")

        sign_in(driver, url, user, password)
        found["listed"] = [link.text for link in driver.find_elements(By.CSS_SELECTOR, ".articles .title")]
        driver.save_screenshot(screenshots + "/web-list-desktop.png")
        driver.set_window_size(390, 844)
        driver.save_screenshot(screenshots + "/web-list-phone.png")
        driver.set_window_size(1280, 900)

        driver.find_element(By.LINK_TEXT, title).click()
        reader = driver.find_element(By.ID, "reader")
        found["article"] = reader.get_attribute("data-article")
        found["paragraphs"] = len(driver.find_elements(By.CSS_SELECTOR, ".body p"))
        driver.save_screenshot(screenshots + "/web-reader-desktop.png")
        driver.set_window_size(390, 844)
        driver.save_screenshot(screenshots + "/web-reader-phone.png")
        driver.set_window_size(1280, 900)

        driver.find_element(By.CSS_SELECTOR, "button[value=read]").click()
        check(driver.find_elements(By.CSS_SELECTOR, "button[value=unread]"), "after Mark read the page offers Mark unread")
        driver.find_element(By.CSS_SELECTOR, "button[value=favorite]").click()
        check(driver.find_element(By.CSS_SELECTOR, "button[value=unfavorite]").get_attribute("aria-pressed") == "true",
              "after Favorite the button is pressed")

        driver.find_element(By.ID, "quote").send_keys(quote)
        driver.find_element(By.ID, "note").send_keys(note)
        driver.find_element(By.CSS_SELECTOR, ".add-note button[type=submit]").click()
        found["quotes"] = [element.text for element in driver.find_elements(By.CSS_SELECTOR, ".note blockquote")]

        search = driver.find_element(By.ID, "q")
        search.send_keys(word)
        search.submit()
        found["search_results"] = [link.text for link in driver.find_elements(By.CSS_SELECTOR, ".articles .title")]
        found["search_marks"] = sorted({mark.text.lower() for mark in driver.find_elements(By.CSS_SELECTOR, ".snippet mark")})

        # A forged post: the browser's own session cookie, but no CSRF token
        # (what another site's form would send), and then a wrong one.
        cookie = "readsync_session=" + driver.get_cookie("readsync_session")["value"]
        target = url + "/articles/" + found["article"]
        found["forged_without_token"] = post(target, {"action": "archive"}, cookie)
        found["forged_wrong_token"] = post(target, {"action": "archive", "csrf": "not-the-token"}, cookie)
        found["content_security_policy"] = urllib.request.urlopen(urllib.request.Request(url + "/signin")).headers.get(
            "Content-Security-Policy")
    finally:
        driver.quit()
    print(json.dumps(found))


def shows(url, user, password, article, text):
    driver = browser()
    try:
        sign_in(driver, url, user, password)
        driver.get(url + "/articles/" + article)
        # The page as the server made it (a note's text is in its textarea).
        print(json.dumps({"shows": text in driver.page_source}))
    finally:
        driver.quit()


def handshake(folder, mine, theirs, seconds=120):
    open(os.path.join(folder, mine), "w").close()
    deadline = time.time() + seconds
    while not os.path.exists(os.path.join(folder, theirs)):
        check(time.time() < deadline, "the test did not answer " + mine)
        time.sleep(0.05)


def offline(url, user, password, article, folder):
    found = {}
    driver = browser()
    try:
        sign_in(driver, url, user, password)
        # The list has the service worker keep its unread articles.
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.execute_script("return document.documentElement.dataset.offlineReady"))
        found["kept"] = int(driver.execute_script("return document.documentElement.dataset.offlineReady"))
        handshake(folder, "ready", "offline")

        # No server: the kept article opens, and Mark read is queued.
        driver.get(url + "/articles/" + article)
        found["offline_title"] = driver.find_element(By.CSS_SELECTOR, "#reader h1").text
        driver.find_element(By.CSS_SELECTOR, "button[value=read]").click()
        wait.until(lambda d: d.execute_script("return document.documentElement.dataset.queued") == "1")
        found["queue_shown"] = driver.find_element(By.ID, "queue").text
        handshake(folder, "queued", "online")

        # The server is back: the next page load sends the queue.
        driver.get(url + "/")
        wait.until(lambda d: d.execute_script("return document.documentElement.dataset.queued") == "0")
        driver.get(url + "/articles/" + article)
        found["read_after"] = bool(driver.find_elements(By.CSS_SELECTOR, "button[value=unread]"))

        # Signing out leaves no article kept in this browser.
        kept_articles = """
            const done = arguments[arguments.length - 1];
            caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name).then((cache) => cache.keys()))))
                .then((lists) => done(lists.flat().filter((request) => request.url.includes("/articles/")).length));
        """
        found["kept_before_signout"] = driver.execute_async_script(kept_articles)
        driver.find_element(By.CSS_SELECTOR, ".signout button").click()
        WebDriverWait(driver, 30).until(lambda d: "/signin" in d.current_url)
        found["kept_after_signout"] = driver.execute_async_script(kept_articles)
    finally:
        driver.quit()
    print(json.dumps(found))


if __name__ == "__main__":
    mode, arguments = sys.argv[1], sys.argv[2:]
    if mode == "edit":
        edit(*arguments)
    elif mode == "shows":
        shows(*arguments)
    elif mode == "offline":
        offline(*arguments)
    else:
        raise SystemExit("unknown mode " + mode)
