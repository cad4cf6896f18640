// Runs ritellm's Pyodide checks (checks.py) in Node, ritellm installed from its wheel:
//   node tests/browser/node.mjs <wheel> <context.json>
// Prints one JSON line: {"checks": {name: "ok" | traceback}, "costs_us": {what: microseconds} | null}.
import { readFileSync } from "node:fs";
import { loadPyodide } from "pyodide";

const [wheel, contextPath] = process.argv.slice(2);
const pyodide = await loadPyodide();
// Pyodide's npm package ships no wheels; ritellm needs none of its own under Pyodide.
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel");
pyodide.FS.writeFile("/home/pyodide/checks.py", readFileSync(new URL("./checks.py", import.meta.url)));
pyodide.globals.set("context_json", readFileSync(contextPath, "utf8"));
const result = await pyodide.runPythonAsync(`
import sys
sys.path.insert(0, "/home/pyodide")
import checks
await checks.main(context_json)
`);
console.log(result);
