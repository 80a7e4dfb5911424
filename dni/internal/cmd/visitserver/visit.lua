-- wrk script for visitserver: every request is a first page view of a new
-- visitor arriving from Google Ads, the heaviest visit (new session, new
-- lease, session and touchpoint written).
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
wrk.body = '{"url":"https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=emergency&gclid=Cj0KCQjw","referrer":"https://www.google.com/"}'
