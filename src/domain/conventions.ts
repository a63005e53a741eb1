/** A repository's own conventions as read from its files: pure data, no I/O. */

/** One file read from the repository: where it was found and its text (untrusted). */
export interface RepoFile {
  path: string;
  text: string;
}

/** What a run read of the repository's conventions; null where the policy did not ask or no file was found. */
export interface RepoConventions {
  /** The forge's PR template (GitHub's `pull_request_template.md`, Azure DevOps' too), when body.repo_pr_template asks. */
  pr_template: RepoFile | null;
  /** CODEOWNERS, when reviewers.codeowners asks. */
  codeowners: RepoFile | null;
}
