#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" from a vitest JSON report. A missing or unreadable report
// counts as one failure, so CI never mistakes a crashed run for a green one.
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.tmp/vitest-report.json';
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (error) {
  process.stderr.write(`cannot read the test report ${path}: ${error.message}\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A test file that fails to load has no failed tests but is a failed suite: count it too.
const failedTests = report.numFailedTests ?? 0;
const failedSuitesWithoutTests = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && (file.assertionResults ?? []).every((test) => test.status !== 'failed'),
).length;
const failed = failedTests + failedSuitesWithoutTests;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
