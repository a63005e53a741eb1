/**
 * The OrderService repository most forge tests start from: `main` with a scaffold commit and `dev` one feature
 * commit ahead, on the GitHub emulator (with the seed's two mandatory reviewers as users) or the Azure DevOps
 * one (each test adds the identities it needs). Each file passes its own `sha` so commit ids never collide.
 */
import type { AzureEmulator } from "../emulators/azure-devops.js";
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

/** The same repository on the Azure DevOps emulator (its commits carry changes, not GitHub's files). */
export function seedOrderServiceOnAzure(az: AzureEmulator, repo: string, sha: (n: number) => string): void {
  az.seedRepo(repo, {
    branches: { main: sha(1), dev: sha(2) },
    commits: {
      [sha(1)]: {
        message: "chore: scaffold",
        author: AGENT_AUTHOR,
        parents: [],
        changes: [{ path: "/README.md", changeType: "add" }],
      },
      [sha(2)]: {
        message: "feat(order): add OrderId [trace:ord-8128]",
        author: AGENT_AUTHOR,
        parents: [sha(1)],
        changes: [{ path: "/src/Domain/OrderId.cs", changeType: "add" }],
      },
    },
  });
}

/** The data volume's manifest on `main` of the change-request world (10Gi, grown to 20Gi by pvcChangeRequest). */
export const DATA_PVC =
  "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n";

/** The change-request world on Azure DevOps: `repo` with `main` at `base` holding apps/data/pvc.yaml. */
export function seedDataVolumeOnAzure(az: AzureEmulator, repo: string, base: string): void {
  az.seedRepo(repo, {
    branches: { main: base },
    commits: {
      [base]: {
        message: "chore: initial manifests",
        author: { name: "Platform", email: "platform@acme.test", date: "2026-01-01T09:00:00Z" },
        parents: [],
        files: { "apps/data/pvc.yaml": DATA_PVC },
      },
    },
  });
}

/** An SRE agent's ChangeRequested event growing the data volume to 20Gi, one PR per `id`. */
export function pvcChangeRequest(id: string, repo: string) {
  return {
    event: "ChangeRequested" as const,
    change_id: id,
    change_type: "pvc-size",
    repo,
    base_branch: "main",
    summary: `grow the data volume to 20Gi (${id})`,
    edits: [{ path: "apps/data/pvc.yaml", set: { "spec.resources.requests.storage": "20Gi" } }],
    context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the volume", impact: "Namespace data" },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
  };
}
