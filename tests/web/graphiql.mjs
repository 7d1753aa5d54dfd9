// Drives GraphiQL in headless Chromium with every non-loopback request blocked:
// the page must load from the API alone, run a query signed in, receive a live
// post, and show a refused subscription's reason instead of reconnecting.
// Usage: node graphiql.mjs <page-url-with-#token> <poster-token>; prints JSON.
import { chromium } from "playwright-core";

const [pageUrl, posterToken] = process.argv.slice(2);
const endpoint = new URL(pageUrl);
endpoint.hash = "";
const report = { blocked: [], pageErrors: [], sockets: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === "127.0.0.1" || host === "localhost") return route.continue();
    report.blocked.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => report.pageErrors.push(String(error)));
  page.on("websocket", (socket) => report.sockets.push(socket.url()));

  // The schema arrives by introspection, GraphiQL's first POST.
  const schemaLoaded = page.waitForResponse((answer) => answer.request().method() === "POST", {
    timeout: 20000,
  });
  await page.goto(pageUrl);
  await page.waitForSelector(".graphiql-container", { timeout: 20000 });
  report.introspectionStatus = (await schemaLoaded).status();
  report.signedInAs = await page.textContent("#signed-in-as");
  report.urlAfterSignIn = page.url();

  const run = async (query) => {
    await page.evaluate((text) => {
      document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.setValue(text);
    }, query);
    // GraphiQL reads the operation's name from the editor after a short debounce.
    await page.waitForTimeout(500);
    await page.click(".graphiql-query-editor .CodeMirror");
    await page.keyboard.press("Control+Enter");
  };
  const response = () =>
    page.evaluate(() => document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue());
  const waitForResponse = async (needle, timeout = 5000) => {
    const until = Date.now() + timeout;
    while (Date.now() < until) {
      const text = await response();
      if (text.includes(needle)) return text;
      await page.waitForTimeout(100);
    }
    return null;
  };

  await run("query Me { viewer { id } }");
  report.query = JSON.parse((await waitForResponse('"viewer"')) || "null");

  await run("subscription Live { timelinePost { id body author { id } } }");
  for (let attempt = 0; attempt < 10 && !report.live; attempt++) {
    const body = `live from the browser test ${attempt}`;
    await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${posterToken}` },
      body: JSON.stringify({ query: `mutation { createPost(input: {body: "${body}"}) { post { id } } }` }),
    });
    const seen = await waitForResponse(body, 2000);
    if (seen) report.live = JSON.parse(seen);
  }
  await page.keyboard.press("Control+Enter"); // stops the running subscription

  await page.click("#sign-out");
  report.signedOutAs = await page.textContent("#signed-in-as");
  const socketsBefore = report.sockets.length;
  await run("subscription Live { timelinePost { id } }");
  const refused = await waitForResponse("4403");
  report.refusal = refused && JSON.parse(refused);
  await page.waitForTimeout(3000); // a client that retries would open more sockets by now
  report.socketsForRefusal = report.sockets.length - socketsBefore;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
