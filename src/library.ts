// Public library surface: named exports only.
export * from './core/errors.js';
export * from './hashing/pdq/hash256.js';
export * from './hashing/pdq/pdq.js';
export * from './hashing/image-decode.js';
export * from './signals/signal-type.js';
export * from './signals/registry.js';
export {
  BitLayout,
  LinearPdqIndex,
  PdqIndex,
  type BucketStats,
  type IndexBucketStats,
  type LayoutChoice,
  type PdqIndexOptions,
  type PdqMatch,
  type PdqQuery,
  type PdqSearchOptions,
} from './index/pdq-index.js';
