// Loads the chat page (wasm/chat.html) in Chromium, runs ritellm's Pyodide checks (checks.py)
// in it, then chats through the page itself, against the mock provider and a loopback API:
//   node tests/browser/chromium.mjs <page URL> <context.json> <screenshot.png>
// Prints one JSON line: {"checks": {...}, "costs_us": {what: microseconds} | null, "chats": [...], "console": [...]}.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [pageURL, contextPath, screenshot] = process.argv.slice(2);
const context = JSON.parse(readFileSync(contextPath, "utf8"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"], // Chromium's sandbox refuses to run as root
});
try {
  const page = await browser.newPage();
  const messages = [];
  page.on("console", (message) => messages.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => messages.push(`pageerror: ${error.message}`));
  await page.goto(pageURL);
  await page.waitForFunction(() => window.ritellmPage !== undefined);
  const result = await page.evaluate(
    async ([source, contextJSON]) => {
      const { pyodide } = await window.ritellmPage;
      pyodide.FS.writeFile("/home/pyodide/checks.py", source);
      pyodide.globals.set("context_json", contextJSON);
      return pyodide.runPythonAsync(`
import sys
sys.path.insert(0, "/home/pyodide")
import checks
await checks.main(context_json)
`);
    },
    [readFileSync(new URL("./checks.py", import.meta.url), "utf8"), JSON.stringify(context)],
  );

  // The page as a user drives it: a streamed answer from the mock provider, then from the
  // loopback API (another origin), then a typed error shown in the page.
  async function chat(model, baseURL, key, prompt) {
    await page.fill("#model", model);
    await page.fill("#base-url", baseURL);
    await page.fill("#api-key", key);
    const turns = await page.locator(".turn").count();
    await page.fill("#prompt", prompt);
    await page.click("#send");
    await page.waitForFunction(
      (count) => document.querySelectorAll(".turn").length === count + 2 && !document.querySelector("#send").disabled,
      turns,
    );
    const answer = page.locator(".turn").nth(turns + 1);
    return { className: await answer.getAttribute("class"), text: await answer.textContent() };
  }
  const chats = [
    await chat("mock/echo", "", "", "streamed into the page"),
    await chat("openai/gpt-4o-mini", context.base_url, "sk-page-0123456789", "across origins"),
    await chat("openai/unauthorized", context.base_url, "sk-page-0123456789", "with a bad key"),
  ];
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...JSON.parse(result), chats, console: messages }));
} finally {
  await browser.close();
}
