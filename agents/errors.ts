// The agent's start-up failures, said in one line by the CLI (see cli/main.ts for the exit codes).

/** A wrong or missing option: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The host or cluster lacks what the agent needs (no kubeconfig, an unreadable CA bundle): exit code 1. */
export class SetupError extends Error {
  override name = 'ConfigError';
}
