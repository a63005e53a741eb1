/**
 * The OrderService repository most forge tests start from, seeded on the GitHub emulator: `main` with a
 * scaffold commit, `dev` one feature commit ahead, and the seed's two mandatory reviewers as users. Each test
 * file passes its own `sha` so commit ids never collide between files sharing an emulator.
 */
import type { GitHubEmulator } from "../emulators/github.js";

export const AGENT_AUTHOR = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

export function seedOrderServiceOnGitHub(
  gh: GitHubEmulator,
  repo: string,
  sha: (n: number) => string,
  options: { devMessage?: string } = {},
): void {
  gh.seedRepo(repo, {
    default_branch: "main",
    branches: { main: sha(1), dev: sha(2) },
    commits: {
      [sha(1)]: {
        message: "chore: scaffold",
        author: AGENT_AUTHOR,
        parents: [],
        files: [{ filename: "README.md", status: "added", additions: 3, deletions: 0 }],
      },
      [sha(2)]: {
        message: options.devMessage ?? "feat(order): add OrderId [trace:ord-8128]",
        author: AGENT_AUTHOR,
        parents: [sha(1)],
        files: [{ filename: "src/Domain/OrderId.cs", status: "added", additions: 4, deletions: 0 }],
      },
    },
  });
  gh.addUser("TechLeadAgent");
  gh.addUser("QAAssistantAgent");
}
