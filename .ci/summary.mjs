// Prints the one-line summary CI reads: "N passed, N failed, N skipped".
// Typecheck or lint failing before vitest ran counts as one failure.
import { existsSync, readFileSync } from "node:fs";

const [file, rcText] = process.argv.slice(2);
const rc = Number(rcText);
if (!existsSync(file)) {
  console.log(`0 passed, ${rc === 0 ? 0 : 1} failed`);
} else {
  const r = JSON.parse(readFileSync(file, "utf8"));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const failed = r.numFailedTests + (rc !== 0 && r.numFailedTests === 0 ? 1 : 0);
  console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
}
