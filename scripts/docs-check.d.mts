// Types of scripts/docs-check.mjs for the tests (test/docs/docs-check.test.ts).
export interface DocCommand {
  readonly line: number;
  readonly command: string;
}
export interface Rule {
  readonly match: RegExp;
  readonly reason: string;
}
export type Classified = { action: 'skip'; reason: string } | { action: 'run'; slow: string | null; exit: number };
export const SKIP: readonly Rule[];
export const SLOW: readonly Rule[];
export const EXPECTED_EXIT: ReadonlyArray<Rule & { readonly exit: number }>;
export function extractCommands(text: string): DocCommand[];
export function classify(command: string): Classified;
export function docFiles(root?: string): string[];
export function check(files: readonly string[], options?: { ci?: boolean; root?: string; log?: (line: string) => void }): string[];
