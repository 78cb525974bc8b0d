import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function leakguard(...args: string[]) {
  const result = spawnSync(process.execPath, ["bin/leakguard.js", ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("leakguard CLI", () => {
  it("answers an unknown command with one line and exit 1", () => {
    const result = leakguard("bogus");
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual(["leakguard: unknown command 'bogus'"]);
  });

  it("refuses to let the demo drop a database that is not a demo database", () => {
    const result = leakguard("demo", "--database", "leakguard");
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain('--database "leakguard" must be a demo database');
  });
});
