import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Hashing tests spawn worker threads and ffmpeg; two cores is the whole machine.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
