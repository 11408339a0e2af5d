/** The two SQL dialects and what each can do; code branches on capabilities, not on names, where it can. */
export type DialectName = 'sqlite' | 'postgres';

export interface DialectCapabilities {
  name: DialectName;
  /** SELECT ... FOR UPDATE SKIP LOCKED (job queues with several workers). */
  supportsSkipLocked: boolean;
  /** Several writers at once; SQLite serialises writes in one process. */
  concurrentWriters: boolean;
}

export const DIALECTS: Record<DialectName, DialectCapabilities> = {
  sqlite: { name: 'sqlite', supportsSkipLocked: false, concurrentWriters: false },
  postgres: { name: 'postgres', supportsSkipLocked: true, concurrentWriters: true },
};
