/**
 * Which repository a commit was read from or pushed to, for a forge's `readTexts`: the port hands it a change
 * set, which names commits but no repository. Bounded, so a long-running server does not grow it forever; a
 * commit it has forgotten (or never saw) has no texts, and the digest goes on without them.
 */
export class CommitRepos {
  private readonly repos = new Map<string, string>();

  constructor(private readonly limit = 1000) {}

  note(commit: string | null | undefined, repo: string): void {
    if (!commit) return;
    const key = commit.toLowerCase();
    this.repos.delete(key);
    this.repos.set(key, repo);
    if (this.repos.size > this.limit) this.repos.delete(this.repos.keys().next().value!);
  }

  of(commit: string | null | undefined): string | undefined {
    return commit ? this.repos.get(commit.toLowerCase()) : undefined;
  }
}
