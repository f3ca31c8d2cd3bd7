// Built into every binary under --config=tsan (through //third_party:absl).
//
// One narrow false positive in abseil 20220623 under clang's TSan: a thread's
// identity block is carved from memory that LowLevelAlloc mmap()s, and another
// thread later wakes it (Waiter::Post) after finding it in a Mutex's wait
// queue. The hand-off happens inside absl::Mutex's own annotated critical
// section, where TSan deliberately ignores synchronisation, so the mmap (which
// TSan records as a write) and the wake-up look unordered. Only reports with
// LowLevelAlloc's mmap in a stack are suppressed; the canary
// (//tests:tsan_canary_test) proves real races are still reported. See
// docs/adr/0002-tsan-with-instrumented-abseil.md.
//
// Second: gRPC's callback API is partly header code (grpc::internal::
// CallbackWithSuccessTag, ServerCallbackUnaryImpl), compiled into our
// instrumented binary, that hands a call between threads through the
// completion queue of Debian's uninstrumented libgrpc. TSan sees the two
// halves but not the queue between them. Suppressed: reports with a frame of
// gRPC's batch-completion machinery (CallOpSet, CallbackWithSuccessTag),
// under which no code of ours runs (the default reactor has no callbacks); a
// race in our handlers, which run under CallbackUnaryHandler::RunHandler, is
// still reported.
extern "C" const char* __tsan_default_suppressions() {
  return "race:absl::*::base_internal::LowLevelAlloc::Alloc\n"
         "race:absl::*::base_internal::DoAllocWithArena\n"
         "race:grpc::internal::CallOpSet\n"
         "race:grpc::internal::CallbackWithSuccessTag\n";
}

// Defaults for every TSan binary, children of tests included (TSAN_OPTIONS
// adds to and overrides them).
//
// ignore_noninstrumented_modules: gRPC, protobuf and libcurl are Debian's
// uninstrumented shared libraries. Their internal hand-offs (lock-free queues,
// combiners) are invisible to TSan, so the memory they pass between threads
// through intercepted calls (free, sendmsg) looked racy: a gRPC client freeing
// a slice after another of gRPC's threads sent it was reported. With this
// option the interceptors only check calls made from instrumented code, which
// is all of ours; races in our own code are still reported (the canary proves
// it).
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1:halt_on_error=1:"
         "second_deadlock_stack=1";
}
