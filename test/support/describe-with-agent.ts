/**
 * `describe` for suites that drive a real agent CLI: `reason` is why the CLI cannot run (null when it can). Skipped
 * with the reason printed on a developer's machine; a failing suite instead under CI=true (CI must run them).
 */
export const describeWithAgent = (agent: string, reason: string | null, title: string, body: () => void): void => {
  if (reason && process.env.CI === 'true') {
    describe(title, () => it(`needs the real ${agent} CLI under CI`, () => { throw new Error(reason); }));
    return;
  }
  if (reason) {
    process.stdout.write(`[runledger tests] SKIPPED "${title}": ${reason}\n`);
    describe.skip(title, body);
    return;
  }
  describe(title, body);
};
