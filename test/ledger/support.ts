export { Ledger, parsePlant, parseEvents } from '../../src/ledger/index.js';
export interface ProcuraErrorLike {
  readonly message: string;
  readonly code: string;
}
