/**
 * The first SIGTERM or SIGINT, for the long-running commands (serve, worker). Its handlers are removed when it
 * arrives, so a second signal ends the process at once (Node's default) for someone who cannot wait for a drain.
 */
export function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve(signal);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
