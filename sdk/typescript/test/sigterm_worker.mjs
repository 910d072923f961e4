// A worker process for the SIGTERM test: worker.run() until SIGTERM, then "stopped".
import { Worker } from "../dist/index.js";

const worker = new Worker({ server: process.argv[2], claimWaitMs: 1000, gracePeriodMs: 500 });
worker.workflow(process.argv[3], async (ctx) => ctx.step("only", () => "ok"));
setTimeout(() => console.log("ready"), 300);
await worker.run();
console.log("stopped");
