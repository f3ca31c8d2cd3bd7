// The tally the manifest and monitoring checkers share: check() counts a
// rule and prints FAIL with its message when the rule does not hold.
export const tally = { checks: 0, failures: 0 };

export function check(ok, message) {
  tally.checks++;
  if (!ok) {
    tally.failures++;
    console.log(`FAIL ${message}`);
  }
}
