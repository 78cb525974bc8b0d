#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx, so `npx leakguard ...` works straight from a checkout
// and signals (Ctrl-C, SIGTERM from a supervisor) reach the command itself.
import { register } from "tsx/esm/api";

// npx runs this as npm exec -> sh -c -> node and hands a SIGTERM to sh alone, which dies without passing it on.
// Once the shell between npm and this process is gone, stop as if the SIGTERM had arrived here.
if (process.env.npm_command === "exec") {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, "SIGTERM");
  }, 250);
  watch.unref();
}

register();
await import("../src/cli/main.ts");
