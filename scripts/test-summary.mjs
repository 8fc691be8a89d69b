// Prints the line CI reads, "N passed, N failed", from vitest's JSON results, and exits
// non-zero when anything failed or no test ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log('0 passed, 1 failed');
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  process.exit(1);
}
const passed = results.numPassedTests ?? 0;
const failed = results.numFailedTests ?? 0;
// A test file that fails to load has no test results of its own; count it as one failure.
const suiteErrors = (results.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
const total = failed + suiteErrors;
console.log(`${passed} passed, ${total} failed`);
process.exit(total > 0 || passed === 0 ? 1 : 0);
