#!/usr/bin/env node
// The `kvs-emulator` command. CommonJS on purpose: it runs before anything queues work on libuv's threadpool,
// which is sized on first use (an ES module entry is itself read through the pool, too late to size it). The
// pool runs disk storage's file writes and fsyncs: with hundreds of streams, libuv's default of 4 threads
// queues them behind fsyncs that hold a thread for milliseconds, so the bin asks for 16 unless the environment
// sets UV_THREADPOOL_SIZE. Then it runs the ES module bin.
process.env.UV_THREADPOOL_SIZE ??= '16'
void import('./bin.ts')
