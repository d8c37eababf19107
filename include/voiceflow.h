/*
 * VoiceFlow C API: speech to text with Whisper models on ONNX Runtime, text
 * enhancement, and an encrypted transcript store.
 *
 * Conventions:
 * - Every function returns a VfStatus (VF_OK == 0) and writes its results
 *   through out-pointers, which are set to NULL / 0 first, so they hold NULL
 *   after a failure. vf_last_error_message() explains the last failure on the
 *   calling thread. NULL pointers, invalid UTF-8, bad lengths and values, and
 *   internal panics are reported as status codes, never as crashes.
 * - Handles (VfEngine, VfTranscript, VfStore, VfRecord, VfRecordList,
 *   VfEnhancer) are made by the library and freed with their vf_*_free
 *   function, which accepts NULL. Strings returned as `const char *` belong to
 *   the handle they came from; strings returned as `char *` are the caller's,
 *   freed with vf_string_free.
 * - VfEngine, VfStore and VfEnhancer may be used from many threads at once;
 *   VfTranscript, VfRecord and VfRecordList are not synchronized.
 * - Structs that you fill (VfEngineOptions, VfTranscribeOptions,
 *   VfStreamOptions, VfStreamCallbacks, VfQuery) start with
 *   `size_t struct_size`: initialise each with its vf_*_default(&s, sizeof s)
 *   function, then set the fields you need. See "ABI policy" below.
 * - Callbacks: the segment callback of VfTranscribeOptions runs only during
 *   the transcribe call it is given to, so its user_data stays yours and has
 *   no finalizer. A streaming session keeps its user_data until it ends;
 *   VfStreamCallbacks.free_user_data (may be NULL) is then called exactly
 *   once, also when vf_stream_new fails (unless the VfStreamCallbacks
 *   itself is rejected for its struct_size: then it is not read at all).
 *
 * Safety contracts: each function's comment ends with a "Safety" section
 * stating what the caller must guarantee. Common to all: a pointer argument
 * is NULL (reported as VF_ERROR_NULL_POINTER unless NULL is allowed) or
 * aligned and valid for what its type says for the duration of the call and
 * not written by anyone else meanwhile; strings are NUL-terminated; handles
 * come from this library and are not freed before the call returns; a
 * vf_*_free call takes a handle no other thread still uses. What the library
 * cannot check (a dangling or misaligned pointer, a missing NUL, a short
 * buffer) is undefined behaviour; everything else is a status code. The
 * functions without a Safety section (vf_version, vf_status_name,
 * vf_last_error_message) take no pointers: any argument, any thread, any time.
 *
 * ABI policy:
 * - The shared library's SONAME is libvoiceflow.so.N with N = VF_ABI_VERSION
 *   (now 0). A program built against this header runs with any later
 *   library of the same SONAME; it needs a library at least as new as the
 *   header (vf_version() says which one is loaded).
 * - Compatible, within a SONAME: new functions; new fields appended to the
 *   end of a size-versioned struct (one with a leading struct_size), whose
 *   defaults apply to callers built before them; new VfStatus values and
 *   new values of other enums and constants (VfTask, VfContext, ...); new
 *   optional behaviour that defaults to the old one. Handle a status you do
 *   not know as a failure (vf_status_name() gives "VF_ERROR_UNKNOWN" for it);
 *   do not switch exhaustively over enums.
 * - Size-versioned structs: struct_size is the sizeof of the struct in the
 *   header you built with. The library reads only the fields that lie
 *   within it and rejects a struct_size that no release of the header had
 *   (0 or garbage from an uninitialised struct, or a header newer than the
 *   library) with VF_ERROR_INVALID_ARGUMENT naming the struct. vf_*_default
 *   writes exactly struct_size bytes, so an older caller is never overrun.
 *   In such a struct, new fields are only ever appended.
 * - Frozen structs, made by the library and read by you (VfSegment,
 *   VfPartial, VfProgress): they do not change within a SONAME; new data
 *   comes through new functions.
 * - Needs a new SONAME (VF_ABI_VERSION + 1): removing or renaming a
 *   function, type, field or constant; changing a function's parameters or
 *   return type, a field's type, offset or meaning, or a constant's value;
 *   reordering or removing struct fields or enum values; changing a frozen
 *   struct; rejecting arguments that were accepted before.
 *
 * Example (error handling shortened):
 *
 *     VfEngine *engine = NULL;
 *     VfTranscript *transcript = NULL;
 *     const char *text = NULL;
 *     VfStatus status = vf_engine_new("models/whisper-tiny.en", NULL, &engine);
 *     if (status == VF_OK)
 *         status = vf_engine_transcribe_file(engine, "speech.wav", NULL, &transcript);
 *     if (status == VF_OK && vf_transcript_text(transcript, &text) == VF_OK)
 *         printf("%s\n", text);
 *     else
 *         fprintf(stderr, "%s: %s\n", vf_status_name(status), vf_last_error_message());
 *     vf_transcript_free(transcript);
 *     vf_engine_free(engine);
 *
 * Link with `pkg-config --cflags --libs voiceflow`.
 */

#ifndef VOICEFLOW_H
#define VOICEFLOW_H

/* Generated by cbindgen from voiceflow-ffi/src: do not edit; run `make header`. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// The ABI generation: the number after `libvoiceflow.so.` in the SONAME.
// It changes only with a change that breaks compiled callers (see "ABI
// policy" at the top of the header); additions keep it.
#define VF_ABI_VERSION 0

// What a VoiceFlow C function returns: `VF_OK` (0) on success, otherwise
// the kind of failure. The message of the last failure on the calling
// thread is in `vf_last_error_message()`.
typedef enum VfStatus {
  // Success.
  VF_OK = 0,
  // A required pointer argument was NULL.
  VF_ERROR_NULL_POINTER = 1,
  // A string argument is not valid UTF-8.
  VF_ERROR_INVALID_UTF8 = 2,
  // The library panicked (a bug); the call had no effect the caller can rely on.
  VF_ERROR_PANIC = 3,
  // The audio cannot be transcribed (no samples, NaN or infinite samples,
  // a length that is not a multiple of the channel count, too long).
  VF_ERROR_INVALID_AUDIO = 10,
  // The audio file or bytes (WAV, FLAC, MP3, Ogg Vorbis, MP4/M4A AAC) are
  // not a supported format, are corrupt, or have a header whose fields
  // contradict each other. The name is older than the other formats.
  VF_ERROR_INVALID_WAV = 11,
  // An argument or option is out of range (sample rate 0, beam size 0,
  // unknown language, index past the end, key of the wrong length, ...).
  VF_ERROR_INVALID_ARGUMENT = 12,
  // The model folder or one of its files does not exist.
  VF_ERROR_MODEL_NOT_FOUND = 20,
  // A model file exists but cannot be used.
  VF_ERROR_MODEL_MALFORMED = 21,
  // The ONNX Runtime library could not be found or loaded.
  VF_ERROR_RUNTIME_NOT_FOUND = 30,
  // ONNX Runtime failed while running the model.
  VF_ERROR_INFERENCE = 31,
  // The engine or enhancer was closed and takes no more work.
  VF_ERROR_CLOSED = 32,
  // An I/O operation failed (missing file, permissions, folder in use).
  VF_ERROR_IO = 33,
  // The device `VfEngineOptions::device` insists on (`"cuda"`) cannot
  // run the model; the message says why.
  VF_ERROR_DEVICE_UNAVAILABLE = 34,
  // The enhancer's queue is full; the request was not accepted.
  VF_ERROR_QUEUE_FULL = 40,
  // The request did not complete within its timeout.
  VF_ERROR_TIMEOUT = 41,
  // The request was accepted but cancelled before it ran.
  VF_ERROR_CANCELLED = 42,
  // An enhancement backend failed.
  VF_ERROR_BACKEND = 43,
  // The engine runs and queues as many transcriptions as it is configured
  // for; the request was not accepted (retry later).
  VF_ERROR_OVERLOADED = 44,
  // The key or passphrase does not open this store.
  VF_ERROR_WRONG_KEY = 50,
  // A stored record failed authentication (altered bytes).
  VF_ERROR_INTEGRITY = 51,
  // The path is not a VoiceFlow store, or its format is not readable.
  VF_ERROR_STORE_FORMAT = 52,
  // A record exceeds the store's size limit.
  VF_ERROR_RECORD_TOO_LARGE = 53,
  // No record has this id.
  VF_ERROR_NOT_FOUND = 54,
  // The storage engine reported an error.
  VF_ERROR_STORAGE = 55,
  // An error this version of the C API does not know.
  VF_ERROR_UNKNOWN = 99,
} VfStatus;

// A loaded Whisper model (opaque). Thread-safe: one engine may be used from
// many threads at once (`VfEngineOptions::instances` of them transcribe in
// parallel, the others wait).
typedef struct VfEngine VfEngine;

// The rule enhancer behind a bounded queue served by worker threads
// (opaque). Thread-safe: one enhancer may be used from many threads.
typedef struct VfEnhancer VfEnhancer;

// One stored transcript (opaque), from `vf_store_get` (free it with
// `vf_record_free`) or borrowed from a `VfRecordList`. Strings read from it
// live as long as it does.
typedef struct VfRecord VfRecord;

// Records found by `vf_store_search` or `vf_store_query` (opaque), newest
// first; free it with `vf_record_list_free`.
typedef struct VfRecordList VfRecordList;

// An open transcript store (opaque). Thread-safe: one store may be used
// from many threads at once. A store folder can be open in one process at
// a time; freeing the handle flushes and closes it.
typedef struct VfStore VfStore;

// A live transcription (opaque). `vf_stream_push_pcm*` may be called from
// any thread (one at a time keeps chunks in order), also from inside a
// callback; callbacks run on the session's own thread, one at a time.
typedef struct VfStream VfStream;

// The result of one transcription (opaque). Read it with the
// `vf_transcript_*` accessors; free it with `vf_transcript_free`. Not
// synchronized: use one transcript from one thread at a time.
typedef struct VfTranscript VfTranscript;

// Transcribe or translate, as `VfTranscribeOptions::task`.
typedef uint32_t VfTask;

// What a segment callback returns: `VF_CONTINUE`, or any other value
// (`VF_STOP`) to stop the transcription after this segment.
typedef uint32_t VfControl;

// One timed piece of a transcript.
typedef struct VfSegment {
  // Start time in seconds from the beginning of the audio.
  float start;
  // End time in seconds.
  float end;
  // The segment's text (UTF-8), owned by the transcript (or, in a
  // callback, valid during the call).
  const char *text;
} VfSegment;

// How far a transcription has come, passed to the segment callback.
// Frozen: made by the library and passed by value, it never changes
// within a SONAME.
typedef struct VfProgress {
  // Seconds of audio transcribed so far.
  double done_s;
  // Seconds of audio in total.
  double total_s;
} VfProgress;

// Called on the transcribing thread with each segment as soon as it is
// decoded. `segment` and its text are valid only during the call. Return
// `VF_CONTINUE` to go on or `VF_STOP` to stop. Do not start another
// transcription on the same engine from inside the callback. It runs only
// during the transcribe call it was given to, so its `user_data` needs no
// finalizer: the caller owns it before, during and after the call.
typedef VfControl (*VfSegmentCallback)(const struct VfSegment *segment,
                                       struct VfProgress progress,
                                       void *user_data);

// Options of one transcription; fill it with
// `vf_transcribe_options_default(&options, sizeof options)` first. Strings
// are borrowed for the call. Size-versioned: `struct_size` is set by
// `vf_transcribe_options_default`, and new fields are only ever appended
// (see "ABI policy" at the top).
typedef struct VfTranscribeOptions {
  // `sizeof(VfTranscribeOptions)` as the caller was compiled; set by
  // `vf_transcribe_options_default`. Fields past it take their defaults.
  size_t struct_size;
  // Language code such as `"en"`; NULL or `"auto"` detects it
  // (multilingual models) on 30 s from the first speech.
  const char *language;
  // `VF_TASK_TRANSCRIBE` or `VF_TASK_TRANSLATE`.
  VfTask task;
  // Beam width, 1 to 128; 1 (the default) is greedy decoding.
  size_t beam_size;
  // Text that primes the first window (names, spelling); NULL for none.
  const char *initial_prompt;
  // Predict timestamps (timed segments); default true.
  bool timestamps;
  // Called with each segment as it is produced; NULL for none.
  VfSegmentCallback on_segment;
  // Passed unchanged to `on_segment`; borrowed for the call (the
  // callback never runs after it returns, so there is no finalizer).
  void *user_data;
  // The longest the call may take, waiting for a turn included, in
  // milliseconds; then it fails with `VF_ERROR_TIMEOUT`. 0: no limit.
  uint64_t timeout_ms;
  // Encode a window with less than 30 s of audio at its own length
  // (rounded up to 5 s) instead of padding it to 30 s: faster; the text
  // may differ from Whisper's. Default false.
  bool short_windows;
  // Word-level timestamps from the decoder's cross-attention alignment;
  // default false.
  bool word_timestamps;
  // Beam search stops when `round(beam_size * patience)` beams finished:
  // a positive number (default 1).
  float patience;
  // Samples drawn at each temperature above 0, 1 to 128 (default 5).
  size_t best_of;
  // `temperature_count` temperatures (finite, >= 0) tried in order until
  // a decoding passes the thresholds; borrowed for the call. NULL (the
  // default) keeps openai/whisper's 0, 0.2, 0.4, 0.6, 0.8, 1.
  const float *temperatures;
  // Number of floats at `temperatures` (at least 1 when it is not NULL).
  size_t temperature_count;
  // Fall back to the next temperature when the text's zlib compression
  // ratio exceeds this (default 2.4); `NAN`: no such check.
  float compression_ratio_threshold;
  // Fall back when the average log-probability is below this (default
  // -1); `NAN`: no such check.
  float logprob_threshold;
  // A window counts as silence above this no-speech probability (default
  // 0.6); `NAN`: never.
  float no_speech_threshold;
  // A window whose decoding failed the thresholds at every temperature is
  // dropped when its no-speech probability exceeds this (default 0.5);
  // `NAN` keeps its text, as openai/whisper does.
  float unreliable_no_speech_threshold;
  // Prompt each window with the previous window's text; default true.
  bool condition_on_previous_text;
  // Seed for sampling at temperatures above 0; default 0.
  uint64_t seed;
  // Transcribe only the speech Silero voice activity detection finds
  // (the `vad_*` fields tune it); default false.
  bool vad_filter;
  // Path of `silero_vad.onnx`; NULL looks at `VOICEFLOW_VAD_MODEL`, then
  // `silero-vad/` beside the model folder.
  const char *vad_model;
  // A frame at or above this speech probability is speech, 0 to 1
  // (default 0.5).
  float vad_threshold;
  // While in speech, a frame below this probability is silence, 0 to
  // `vad_threshold`; `NAN` (the default): `vad_threshold - 0.15`.
  float vad_neg_threshold;
  // Speech shorter than this is dropped, in ms (default 0).
  uint32_t vad_min_speech_duration_ms;
  // Speech ends after this much silence, in ms (default 2000).
  uint32_t vad_min_silence_duration_ms;
  // Each span of speech is widened by this much on both sides, in ms
  // (default 400).
  uint32_t vad_speech_pad_ms;
  // Longer speech is cut, at its longest pause, in seconds: positive
  // (default `INFINITY`: never).
  float vad_max_speech_duration_s;
  // Shortest pause counted as a place to cut over-long speech, in ms
  // (default 98).
  uint32_t vad_min_silence_at_max_speech_ms;
} VfTranscribeOptions;

// Where dictated text is going; decides the rules applied.
typedef uint32_t VfContext;

// How an engine is set up; fill it with
// `vf_engine_options_default(&options, sizeof options)` first.
// Size-versioned: `struct_size` is set by `vf_engine_options_default`, and
// new fields are only ever appended (see "ABI policy" at the top).
typedef struct VfEngineOptions {
  // `sizeof(VfEngineOptions)` as the caller was compiled; set by
  // `vf_engine_options_default`. Fields past it take their defaults.
  size_t struct_size;
  // Path of the ONNX Runtime shared library; NULL looks at
  // `ORT_DYLIB_PATH`, then `runtime/` beside the working directory and
  // the executable.
  const char *runtime_library;
  // ONNX Runtime threads per model instance, 1 to 1024 (default: all
  // cores).
  size_t threads;
  // Encoder/decoder session pairs, 1 to 256, each batching the work of
  // every caller (default 1; a second pair runs beside the first).
  size_t instances;
  // Longest audio accepted, in seconds: a positive number, `INFINITY`
  // for no limit (default four hours).
  double max_audio_duration_s;
  // Transcriptions running at once (default 50).
  size_t max_concurrent;
  // Callers that may wait for a turn beyond those (default 100); any more
  // get `VF_ERROR_OVERLOADED` at once.
  size_t max_queued;
  // Batch the work of different callers (default true).
  bool batching;
  // Where the model runs: `"auto"` (NULL, the default: CUDA when the
  // library was built with it and it can take the model, else the CPU),
  // `"cpu"`, `"cuda"` or `"cuda:N"` (that GPU only: `vf_engine_new` fails
  // with `VF_ERROR_DEVICE_UNAVAILABLE` when it cannot be used).
  // `vf_engine_providers` says where each graph runs.
  const char *device;
} VfEngineOptions;

// Which records `vf_store_query` returns; fill it with
// `vf_query_default(&query, sizeof query)` first. Strings are borrowed for
// the call. Size-versioned: `struct_size` is set by `vf_query_default`, and
// new fields are only ever appended (see "ABI policy" at the top).
typedef struct VfQuery {
  // `sizeof(VfQuery)` as the caller was compiled; set by
  // `vf_query_default`. Fields past it take their defaults.
  size_t struct_size;
  // Only records created at or after this time, in milliseconds since
  // the Unix epoch; 0 for no lower bound.
  uint64_t since_ms;
  // Only records created before this time, in milliseconds since the
  // Unix epoch; 0 for no upper bound.
  uint64_t until_ms;
  // Only records of this context label (`"email"`, or your own); NULL
  // for any.
  const char *context;
  // Only records whose raw or enhanced text has every one of these words
  // (case and punctuation do not matter); NULL for any.
  const char *words;
  // At most this many records (default 50).
  size_t limit;
  // The id of the last record of the previous page, for the next page;
  // NULL for the first page.
  const char *after;
} VfQuery;

// How a streaming session finds utterances; fill it with
// `vf_stream_options_default(&options, sizeof options)` first. Strings are
// borrowed for the call. Size-versioned: `struct_size` is set by
// `vf_stream_options_default`, and new fields are only ever appended (see
// "ABI policy" at the top).
typedef struct VfStreamOptions {
  // `sizeof(VfStreamOptions)` as the caller was compiled; set by
  // `vf_stream_options_default`. Fields past it take their defaults.
  size_t struct_size;
  // Language code such as `"en"`; NULL detects it (multilingual models).
  const char *language;
  // Beam width of the finals; 1 (the default) is greedy.
  size_t beam_size;
  // Voice activity detection (default true); false treats all audio as
  // speech cut into utterances of `max_speech_s`.
  bool detect_speech;
  // Path of `silero_vad.onnx`; NULL: `silero-vad/silero_vad.onnx` beside
  // the model folder (`scripts/setup.sh vad`).
  const char *vad_model;
  // Speech probability threshold (default 0.5; silence below it - 0.15).
  float vad_threshold;
  // Silence that ends an utterance, in ms (default 500).
  uint32_t min_silence_ms;
  // Padding around each utterance, in ms (default 100).
  uint32_t speech_pad_ms;
  // Longest utterance, cut at its longest pause, in seconds (default 20, at most 29).
  float max_speech_s;
  // Milliseconds between partials (default 500); 0: no partials.
  uint32_t partial_interval_ms;
  // Seconds of audio that may wait before pushes fail with
  // `VF_ERROR_QUEUE_FULL` (default 60).
  double max_backlog_s;
} VfStreamOptions;

// The open utterance's current, unstable text. Frozen: made by the
// library for the partial callback, it never changes within a SONAME.
typedef struct VfPartial {
  // Start of the utterance, in seconds from the start of the stream.
  float start;
  // End of the audio it covers, in seconds.
  float end;
  // The text (UTF-8), valid during the call.
  const char *text;
} VfPartial;

// Called with each new partial; return `VF_CONTINUE`, or `VF_STOP` to stop
// the session.
typedef VfControl (*VfPartialCallback)(const struct VfPartial *partial,
                                       void *user_data);

// Called with each committed segment (times from the start of the stream;
// the text is valid during the call and will not change); return
// `VF_CONTINUE`, or `VF_STOP` to stop the session.
typedef VfControl (*VfFinalCallback)(const struct VfSegment *segment,
                                     void *user_data);

// Called once if the session fails, with the status and message that
// `vf_stream_finish` will also return.
typedef void (*VfErrorCallback)(enum VfStatus status,
                                const char *message,
                                void *user_data);

// Frees `user_data` once no callback can run any more.
typedef void (*VfUserDataFinalizer)(void *user_data);

// What a session calls; every callback may be NULL. Fill it with
// `vf_stream_callbacks_default(&callbacks, sizeof callbacks)` (all NULL)
// first, then set the callbacks you want. Size-versioned: `struct_size` is
// set by `vf_stream_callbacks_default`, and new fields are only ever
// appended (see "ABI policy" at the top).
typedef struct VfStreamCallbacks {
  // `sizeof(VfStreamCallbacks)` as the caller was compiled; set by
  // `vf_stream_callbacks_default`. Fields past it are NULL.
  size_t struct_size;
  // Partials of the open utterance.
  VfPartialCallback on_partial;
  // Committed segments.
  VfFinalCallback on_final;
  // The session's failure.
  VfErrorCallback on_error;
  // Called exactly once with `user_data` after the last callback, when
  // the library is done with it: when the session ends (in
  // `vf_stream_finish` or `vf_stream_free`), or before `vf_stream_new`
  // returns an error, so the caller hands `user_data` over at
  // `vf_stream_new` whatever it returns. The one exception: a
  // `VfStreamCallbacks` rejected for its `struct_size` is not read at all,
  // so its finalizer is not called and `user_data` stays the caller's.
  // NULL: nothing to free.
  VfUserDataFinalizer free_user_data;
} VfStreamCallbacks;

// One word of a segment with its time (word timestamps). The library
// writes it whole, like `VfSegment`; it never grows (new fields would come
// with a new struct and accessor).
typedef struct VfWord {
  // Start time in seconds from the beginning of the audio.
  float start;
  // End time in seconds.
  float end;
  // Mean probability of the word's tokens, from 0 to 1.
  float probability;
  // The word (UTF-8) with its leading space and attached punctuation
  // (`" Hello,"`), owned by the transcript.
  const char *word;
} VfWord;

// Plain dictation: full sentences.
#define VF_CONTEXT_GENERAL 0

// An email: greeting and sign-off on their own lines, paragraphs.
#define VF_CONTEXT_EMAIL 1

// A chat message: short and casual, no forced final period.
#define VF_CONTEXT_CHAT 2

// A document: paragraphs, full sentences, spoken headings.
#define VF_CONTEXT_DOCUMENT 3

// Source code: spoken symbols and identifier casing.
#define VF_CONTEXT_CODE 4

// Write down what was said, in the spoken language.
#define VF_TASK_TRANSCRIBE 0

// Translate into English (multilingual models only).
#define VF_TASK_TRANSLATE 1

// Go on transcribing.
#define VF_CONTINUE 0

// Stop: the transcription returns `VF_OK` with the segments so far.
#define VF_STOP 1

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// The library version as a NUL-terminated string (`"0.1.0"`), valid for
// the life of the process. Compatible additions raise its minor (or, at
// 0.x, patch) number; a program needs a library at least as new as the
// header it was built with.
const char *vf_version(void);

// Transcribes the audio file `path` (any format `vf_engine_transcribe_file`
// reads) with `engine` (`options` may be NULL), finishes the text for `context` with the rule enhancer, and stores the
// record (raw and finished text, segments, language, model, duration,
// timings) in `store`, flushed to disk before the call returns. On success
// `*out_id` is the new record's id, a string to free with `vf_string_free`
// (`vf_store_get` reads the record back). Nothing is stored when the
// transcription or the enhancement fails.
//
// ```c
// char *id = NULL;
// if (vf_dictate_file(engine, store, "note.wav", NULL, VF_CONTEXT_EMAIL, &id) == VF_OK) {
//     VfRecord *record = NULL;
//     vf_store_get(store, id, &record);  /* vf_record_enhanced_text(record, ...) */
//     vf_record_free(record);
// }
// vf_string_free(id);
// ```
//
// Errors: those of `vf_engine_transcribe_file` and `vf_store_put_text`,
// and `VF_ERROR_INVALID_ARGUMENT` for an unknown `context`.
//
// # Safety
// - `engine` is NULL or an engine from `vf_engine_new`, and `store` NULL or
//   a store from `vf_store_open*`, neither freed before the call returns.
// - `path` is NULL or a NUL-terminated string.
// - `options` is NULL or as for `vf_engine_transcribe_pcm`.
// - `out_id` is NULL or points to a writable `char *` that overlaps no
//   other argument.
enum VfStatus vf_dictate_file(const struct VfEngine *engine,
                              const struct VfStore *store,
                              const char *path,
                              const struct VfTranscribeOptions *options,
                              VfContext context,
                              char **out_id);

// Loads the model in the folder `model_dir` with ONNX Runtime; `options`
// may be NULL for the defaults. On success `*out_engine` is a new engine
// to free with `vf_engine_free`; on failure it is NULL.
//
// `model_dir` may also name an installed model: `"tiny.en"` is the folder
// `whisper-tiny.en` of the models directory (`$VOICEFLOW_MODELS`, else
// `$XDG_DATA_HOME/voiceflow/models`, else `~/.local/share/voiceflow/models`),
// where `voiceflow models install tiny.en` puts it; an existing folder of
// that name wins.
//
// ```c
// VfEngine *engine = NULL;
// if (vf_engine_new("tiny.en", NULL, &engine) != VF_OK)
//     fprintf(stderr, "%s\n", vf_last_error_message());  // says how to install it
// ```
//
// Errors: `VF_ERROR_MODEL_NOT_FOUND` (for a name that is not installed,
// the message says how to install it), `VF_ERROR_MODEL_MALFORMED`,
// `VF_ERROR_RUNTIME_NOT_FOUND` (the message lists where it looked),
// `VF_ERROR_INVALID_ARGUMENT` (threads outside 1..=1024, instances outside
// 1..=256, a maximum duration that is not a positive number, a bad
// `struct_size`).
//
// # Safety
// - `model_dir` is NULL or a NUL-terminated string.
// - `options` is NULL or points to a `VfEngineOptions` initialised by
//   `vf_engine_options_default` (its `struct_size` bytes readable, every
//   field in them set), whose `runtime_library` is NULL or a
//   NUL-terminated string.
// - `out_engine` is NULL or points to a writable `VfEngine *`.
//
// All of them stay valid and unchanged during the call.
enum VfStatus vf_engine_new(const char *model_dir,
                            const struct VfEngineOptions *options,
                            struct VfEngine **out_engine);

// Where the engine's graphs run: sets `*out_encoder` and `*out_decoder` to
// the ONNX Runtime execution providers of the encoder and the decoder
// (`"CPU"`, `"CUDA"`; `"CUDA/CPU"` when the two graphs of a split decoder
// ended up apart). The strings belong to the engine and stay valid until
// `vf_engine_free`; do not free them.
//
// # Safety
// `engine` is NULL or an engine from `vf_engine_new` not freed before the
// call returns; `out_encoder` and `out_decoder` are NULL or point to
// writable `const char *`s apart from each other.
enum VfStatus vf_engine_providers(const struct VfEngine *engine,
                                  const char **out_encoder,
                                  const char **out_decoder);

// Transcribes `sample_count` float samples (full scale at ±1; peaks up to
// ±8 are accepted) at any `sample_rate`, interleaved when `channels` > 1
// (mixed down to mono).
// `options` may be NULL. On success `*out_transcript` is a new transcript
// to free with `vf_transcript_free`.
//
// Errors: `VF_ERROR_INVALID_AUDIO` (no samples, NaN/infinite samples, a
// peak beyond ±8 (integer PCM passed unscaled), a count that is not a
// multiple of `channels`, too long),
// `VF_ERROR_INVALID_ARGUMENT` (sample rate 0 or above 384 kHz, 0 channels,
// bad options, a bad `struct_size`), `VF_ERROR_CLOSED`, `VF_ERROR_INFERENCE`.
//
// # Safety
// - `engine` is NULL or an engine from `vf_engine_new` that is not freed
//   before the call returns.
// - `samples` points to `sample_count` floats (NULL when `sample_count`
//   is 0) that are not written during the call.
// - `options` is NULL or points to a `VfTranscribeOptions` initialised by
//   `vf_transcribe_options_default` (its `struct_size` bytes readable,
//   every field in them set): `language` and
//   `initial_prompt` NULL or NUL-terminated strings, `on_segment` NULL or a
//   function that may be called on this thread, during the call, with
//   `user_data`.
// - `out_transcript` is NULL or points to a writable `VfTranscript *`
//   apart from the other arguments.
enum VfStatus vf_engine_transcribe_pcm(const struct VfEngine *engine,
                                       const float *samples,
                                       size_t sample_count,
                                       uint32_t sample_rate,
                                       uint16_t channels,
                                       const struct VfTranscribeOptions *options,
                                       struct VfTranscript **out_transcript);

// Transcribes the audio file at `path` (UTF-8): WAV, FLAC, MP3, Ogg Vorbis
// or MP4/M4A AAC, told apart by content; also a pipe or a device, read up
// to the engine's longest duration. Like `vf_engine_transcribe_pcm`, plus
// `VF_ERROR_IO` (cannot be opened or read) and `VF_ERROR_INVALID_WAV` (not
// a supported audio file, corrupt, or a header whose fields contradict each
// other, in any format: the name is older than the other formats);
// `VF_ERROR_INVALID_AUDIO` also when it is longer than the engine allows.
//
// ```c
// VfTranscript *transcript = NULL;
// if (vf_engine_transcribe_file(engine, "speech.mp3", NULL, &transcript) == VF_OK) { ... }
// vf_transcript_free(transcript);
// ```
//
// # Safety
// As for `vf_engine_transcribe_pcm`, with `path` NULL or a NUL-terminated
// string in place of `samples`.
enum VfStatus vf_engine_transcribe_file(const struct VfEngine *engine,
                                        const char *path,
                                        const struct VfTranscribeOptions *options,
                                        struct VfTranscript **out_transcript);

// Transcribes an audio file held in memory (`length` bytes at `bytes`), in
// any format `vf_engine_transcribe_file` reads. Like
// `vf_engine_transcribe_file`.
//
// ```c
// VfTranscript *transcript = NULL;
// if (vf_engine_transcribe_bytes(engine, flac, flac_length, NULL, &transcript) == VF_OK) { ... }
// vf_transcript_free(transcript);
// ```
//
// # Safety
// As for `vf_engine_transcribe_pcm`, with `bytes` pointing to `length`
// bytes (NULL when `length` is 0), not written during the call, in place
// of `samples`.
enum VfStatus vf_engine_transcribe_bytes(const struct VfEngine *engine,
                                         const uint8_t *bytes,
                                         size_t length,
                                         const struct VfTranscribeOptions *options,
                                         struct VfTranscript **out_transcript);

// The older name of `vf_engine_transcribe_bytes`, kept so that programs
// built against it keep working: the same call, any supported format.
//
// # Safety
// As for `vf_engine_transcribe_bytes`.
enum VfStatus vf_engine_transcribe_wav_bytes(const struct VfEngine *engine,
                                             const uint8_t *bytes,
                                             size_t length,
                                             const struct VfTranscribeOptions *options,
                                             struct VfTranscript **out_transcript);

// Writes the engine's metrics (request counts by outcome, per-stage
// latency histograms, batch sizes, audio seconds) in the Prometheus text
// format (OpenMetrics 1.0, ending in `# EOF`) to `*out_text`, a string to
// free with `vf_string_free`.
//
// ```c
// char *text = NULL;
// if (vf_engine_metrics_prometheus(engine, &text) == VF_OK) fputs(text, stdout);
// vf_string_free(text);
// ```
//
// # Safety
// `engine` is NULL or an engine from `vf_engine_new` not freed before the
// call returns; `out_text` is NULL or points to a writable `char *`.
enum VfStatus vf_engine_metrics_prometheus(const struct VfEngine *engine,
                                           char **out_text);

// Writes a snapshot of the engine's metrics as JSON to `*out_json`, a
// string to free with `vf_string_free`: `{"counters": [{"name", "labels":
// {..}, "value"}], "gauges": [{.., "value", "peak"}], "histograms": [{..,
// "count", "sum", "mean", "p50", "p95", "p99", "max"}]}`, latencies in
// seconds.
//
// # Safety
// `engine` is NULL or an engine from `vf_engine_new` not freed before the
// call returns; `out_json` is NULL or points to a writable `char *`.
enum VfStatus vf_engine_metrics_json(const struct VfEngine *engine,
                                     char **out_json);

// Closes the engine: later transcriptions fail with `VF_ERROR_CLOSED`;
// running ones finish. The handle must still be freed with `vf_engine_free`.
//
// # Safety
// `engine` is NULL or an engine from `vf_engine_new` not freed before the
// call returns.
enum VfStatus vf_engine_close(const struct VfEngine *engine);

// Frees an engine; NULL does nothing. Streaming sessions started on it
// keep what they need and may go on.
//
// # Safety
// `engine` is NULL or an engine from `vf_engine_new` not freed before. No
// other thread may be using it, and it must not be used afterwards.
void vf_engine_free(struct VfEngine *engine);

// Starts an enhancer with a queue of `capacity` waiting requests (1 to
// 65536) and `workers` threads (1 to 1024); other values are
// `VF_ERROR_INVALID_ARGUMENT`. Free it with `vf_enhancer_free`.
//
// # Safety
// `out_enhancer` is NULL or points to a writable `VfEnhancer *`.
enum VfStatus vf_enhancer_new(size_t capacity,
                              size_t workers,
                              struct VfEnhancer **out_enhancer);

// Finishes the dictated `text` for `context` (fillers removed, spoken
// punctuation and numbers written, casing) and writes the result to
// `*out_text`, a string to free with `vf_string_free`. Waits at most
// `timeout_ms` milliseconds (0: no limit; any `uint32_t` is valid).
//
// Errors: `VF_ERROR_QUEUE_FULL` at once when the queue is full (nothing
// was accepted), `VF_ERROR_TIMEOUT`, `VF_ERROR_CLOSED` after
// `vf_enhancer_close`, `VF_ERROR_INVALID_ARGUMENT` for an unknown context.
//
// ```c
// char *finished = NULL;
// if (vf_enhancer_enhance(enhancer, "um hello comma world", VF_CONTEXT_CHAT, 1000, &finished) == VF_OK)
//     puts(finished); // "Hello, world"
// vf_string_free(finished);
// ```
//
// # Safety
// `enhancer` is NULL or an enhancer from `vf_enhancer_new` not freed
// before the call returns; `text` is NULL or a NUL-terminated string;
// `out_text` is NULL or points to a writable `char *` apart from them.
enum VfStatus vf_enhancer_enhance(const struct VfEnhancer *enhancer,
                                  const char *text,
                                  VfContext context,
                                  uint32_t timeout_ms,
                                  char **out_text);

// Stops the enhancer: queued requests are finished, later ones fail with
// `VF_ERROR_CLOSED`. The handle must still be freed with `vf_enhancer_free`.
//
// # Safety
// `enhancer` is NULL or an enhancer from `vf_enhancer_new` not freed
// before the call returns.
enum VfStatus vf_enhancer_close(const struct VfEnhancer *enhancer);

// Frees an enhancer (finishing queued requests first); NULL does nothing.
//
// # Safety
// `enhancer` is NULL or an enhancer from `vf_enhancer_new`, not freed
// before, that no other thread is using; it must not be used afterwards.
void vf_enhancer_free(struct VfEnhancer *enhancer);

// Frees a string the library returned as `char *` (a record id, an
// enhanced text). NULL does nothing.
//
// # Safety
// `string` must be NULL or a `char *` this library returned as the
// caller's own (`vf_store_put` ids, `vf_enhancer_enhance` texts, metrics),
// not freed before and unchanged in length (no NUL written into it). Never
// pass a `const char *` borrowed from a handle or `vf_last_error_message`.
// The string must not be used afterwards.
void vf_string_free(char *string);

// The message of the last call on this thread that failed (empty before
// any failure). Successful calls leave it as it is, like `errno`.
//
// Never NULL. The string belongs to the library and stays valid until the
// next failing call on the same thread; copy it (`vf_last_error_copy`) to
// keep it.
const char *vf_last_error_message(void);

// Copies the last error message of this thread into `buffer`, which has
// room for `capacity` bytes: at most `capacity - 1` bytes of the message
// (cut at a character boundary) and a terminating NUL. Writes the full
// message length in bytes (without the NUL) to `out_length`, so that
// `vf_last_error_copy(NULL, 0, &length)` asks for the size needed.
//
// `buffer` may be NULL only when `capacity` is 0. Like any failing call, a
// failure here (NULL `out_length`) replaces the message.
//
// ```c
// char message[256];
// size_t length;
// vf_last_error_copy(message, sizeof message, &length);
// ```
//
// # Safety
// - `buffer` is NULL or points to `capacity` bytes writable during the
//   call (they need not be initialised); it may be NULL only when
//   `capacity` is 0.
// - `out_length` is NULL or points to a writable `size_t`.
// - The two do not overlap each other or the string from
//   `vf_last_error_message`.
enum VfStatus vf_last_error_copy(char *buffer,
                                 size_t capacity,
                                 size_t *out_length);

// Fills `*out_options`, `struct_size` bytes long (pass
// `sizeof(VfEngineOptions)`), with the default engine options and sets its
// `struct_size`. A size that no release of the header had is
// `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
//
// # Safety
// `out_options` is NULL or points to `struct_size` writable bytes, aligned
// for a `VfEngineOptions` (their old contents need not be initialised).
enum VfStatus vf_engine_options_default(struct VfEngineOptions *out_options,
                                        size_t struct_size);

// Fills `*out_options`, `struct_size` bytes long (pass
// `sizeof(VfTranscribeOptions)`), with the default transcription options
// (those of the core's `TranscribeOptions::default()`: language detected,
// transcribe, greedy with temperature fallback, no prompt, timestamps on,
// no VAD filter, no callback) and sets its `struct_size`. A size that no release of the
// header had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
//
// # Safety
// `out_options` is NULL or points to `struct_size` writable bytes, aligned
// for a `VfTranscribeOptions` (their old contents need not be
// initialised).
enum VfStatus vf_transcribe_options_default(struct VfTranscribeOptions *out_options,
                                            size_t struct_size);

// Fills `*out_query`, `struct_size` bytes long (pass `sizeof(VfQuery)`),
// with a query for the newest 50 records of any kind and sets its
// `struct_size`. A size that no release of the header had is
// `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
//
// # Safety
// `out_query` is NULL or points to `struct_size` writable bytes, aligned
// for a `VfQuery` (their old contents need not be initialised).
enum VfStatus vf_query_default(struct VfQuery *out_query,
                               size_t struct_size);

// The records `query` selects (NULL: the newest 50), newest first, as a
// new list at `*out_list` (free it with `vf_record_list_free`). Records
// that fail the integrity check are left out. For the next page, set
// `after` to the id of the list's last record; a page shorter than `limit`
// is the last.
//
// Errors: `VF_ERROR_INVALID_ARGUMENT` (`after` is not a record id, a
// `words` with no word in it, a bad `struct_size`).
//
// ```c
// VfQuery query;
// vf_query_default(&query, sizeof query);
// query.context = "email";
// query.since_ms = now_ms - 7 * 24 * 3600 * 1000ULL;
// VfRecordList *list = NULL;
// if (vf_store_query(store, &query, &list) == VF_OK) { ... }
// vf_record_list_free(list);
// ```
//
// # Safety
// - `store` is NULL or a store from `vf_store_open*` not freed before the
//   call returns.
// - `query` is NULL or points to a `VfQuery` initialised by
//   `vf_query_default` (its `struct_size` bytes readable, every field in
//   them set) whose `context`, `words` and `after` are NULL or
//   NUL-terminated strings, unchanged during the call. A `struct_size` no
//   release had (0: uninitialised) is `VF_ERROR_INVALID_ARGUMENT`.
// - `out_list` is NULL or points to a writable `VfRecordList *` apart from
//   the other arguments.
enum VfStatus vf_store_query(const struct VfStore *store,
                             const struct VfQuery *query,
                             struct VfRecordList **out_list);

// The record's id: 32 hexadecimal digits.
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_id` is NULL or points to a writable `const char *`.
enum VfStatus vf_record_id(const struct VfRecord *record,
                           const char **out_id);

// When the record was created, in milliseconds since the Unix epoch.
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_ms` is NULL or points to a writable `uint64_t`.
enum VfStatus vf_record_created_at_ms(const struct VfRecord *record,
                                      uint64_t *out_ms);

// The context label (`"email"`, or the caller's own label).
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_context` is NULL or points to a writable
// `const char *`.
enum VfStatus vf_record_context(const struct VfRecord *record,
                                const char **out_context);

// The transcript as the model wrote it.
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_text` is NULL or points to a writable `const char *`.
enum VfStatus vf_record_raw_text(const struct VfRecord *record,
                                 const char **out_text);

// The enhanced text; `*out_text` is NULL when the record has none.
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_text` is NULL or points to a writable `const char *`.
enum VfStatus vf_record_enhanced_text(const struct VfRecord *record,
                                      const char **out_text);

// The language code (empty when unknown).
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_language` is NULL or points to a writable
// `const char *`.
enum VfStatus vf_record_language(const struct VfRecord *record,
                                 const char **out_language);

// The duration of the transcribed audio in seconds (0 for text stored
// with `vf_store_put_text`).
//
// # Safety
// `record` is NULL or a record from `vf_store_get` (not freed) or from
// `vf_record_list_get` (its list not freed), and is not freed before the
// call returns; `out_seconds` is NULL or points to a writable `double`.
enum VfStatus vf_record_duration(const struct VfRecord *record,
                                 double *out_seconds);

// Frees a record from `vf_store_get`; NULL does nothing. Never pass a
// record borrowed from a list.
//
// # Safety
// `record` is NULL or a record from `vf_store_get`, not freed before, that
// no other thread is using; never one from `vf_record_list_get`. It must not
// be used afterwards.
void vf_record_free(struct VfRecord *record);

// The number of records in the list.
//
// # Safety
// `list` is NULL or a list from `vf_store_search` or `vf_store_query` not
// freed before the call returns; `out_count` is NULL or points to a writable
// `size_t`.
enum VfStatus vf_record_list_count(const struct VfRecordList *list,
                                   size_t *out_count);

// Record `index` (0-based) of the list, borrowed: valid until the list is
// freed, not to be freed itself. `VF_ERROR_INVALID_ARGUMENT` past the end.
//
// # Safety
// `list` is NULL or a list from `vf_store_search` or `vf_store_query` not
// freed before the call returns; `out_record` is NULL or points to a
// writable `const VfRecord *`.
enum VfStatus vf_record_list_get(const struct VfRecordList *list,
                                 size_t index,
                                 const struct VfRecord **out_record);

// Frees a record list and the records borrowed from it; NULL does nothing.
//
// # Safety
// `list` is NULL or a list from `vf_store_search` or `vf_store_query`, not
// freed before, that no other thread is using. Neither it nor its records
// may be used afterwards.
void vf_record_list_free(struct VfRecordList *list);

// The name of a status code as a static string (`"VF_ERROR_NOT_FOUND"`),
// never NULL and never to be freed. Takes any `int`: a value that is no
// status gives `"VF_ERROR_UNKNOWN"`.
//
// ```c
// fprintf(stderr, "%s: %s\n", vf_status_name(status), vf_last_error_message());
// ```
const char *vf_status_name(int status);

// Opens (or creates) the store in the folder `path`, encrypted under a key
// derived from `passphrase` (Argon2id). Free it with `vf_store_free`.
//
// Errors: `VF_ERROR_WRONG_KEY`, `VF_ERROR_STORE_FORMAT` (not a store),
// `VF_ERROR_INVALID_ARGUMENT` (empty passphrase), `VF_ERROR_IO` (folder
// unreadable or open in another process).
//
// # Safety
// `path` and `passphrase` are NULL or NUL-terminated strings;
// `out_store` is NULL or points to a writable `VfStore *` apart from them.
enum VfStatus vf_store_open(const char *path,
                            const char *passphrase,
                            struct VfStore **out_store);

// Opens (or creates) the store in `path` under a raw key of exactly 32
// bytes (`key_length` must be 32). Errors as `vf_store_open`.
//
// # Safety
// `path` is NULL or a NUL-terminated string; `key` is NULL or points to 32
// readable bytes when `key_length` is 32 (with any other length it is not
// read); `out_store` is NULL or points to a writable `VfStore *` apart
// from them.
enum VfStatus vf_store_open_with_key(const char *path,
                                     const uint8_t *key,
                                     size_t key_length,
                                     struct VfStore **out_store);

// Opens (or creates) an unencrypted store in `path`: anyone with the
// files can read it. Errors as `vf_store_open`.
//
// # Safety
// `path` is NULL or a NUL-terminated string; `out_store` is NULL or points
// to a writable `VfStore *` apart from it.
enum VfStatus vf_store_open_unencrypted(const char *path,
                                        struct VfStore **out_store);

// Stores a transcript (text, segments, language, duration, model) under
// the context label `context` (`"email"`, `"chat"`, ... or 1 to 64 bytes of
// the caller's own) with the optional `enhanced_text` (NULL for none). The
// new record's id is written to `*out_id`, a string to free with
// `vf_string_free`.
//
// # Safety
// - `store` is NULL or a store from `vf_store_open*` and `transcript` NULL
//   or a transcript from `vf_engine_transcribe_*` or `vf_stream_finish`,
//   neither freed before the call returns.
// - `context` and `enhanced_text` are NULL or NUL-terminated strings.
// - `out_id` is NULL or points to a writable `char *` apart from the other
//   arguments.
enum VfStatus vf_store_put(const struct VfStore *store,
                           const struct VfTranscript *transcript,
                           const char *context,
                           const char *enhanced_text,
                           char **out_id);

// Stores text that did not come from a transcription (typed or edited),
// like `vf_store_put`.
//
// # Safety
// - `store` is NULL or a store from `vf_store_open*` not freed before the
//   call returns.
// - `context`, `raw_text` and `enhanced_text` are NULL or NUL-terminated
//   strings.
// - `out_id` is NULL or points to a writable `char *` apart from the other
//   arguments.
enum VfStatus vf_store_put_text(const struct VfStore *store,
                                const char *context,
                                const char *raw_text,
                                const char *enhanced_text,
                                char **out_id);

// Reads the record `id` into a new handle at `*out_record` (free it with
// `vf_record_free`).
//
// Errors: `VF_ERROR_NOT_FOUND`, `VF_ERROR_INVALID_ARGUMENT` (not an id),
// `VF_ERROR_INTEGRITY` (its stored bytes were altered).
//
// # Safety
// `store` is NULL or a store from `vf_store_open*` not freed before the
// call returns; `id` is NULL or a NUL-terminated string; `out_record` is
// NULL or points to a writable `VfRecord *` apart from them.
enum VfStatus vf_store_get(const struct VfStore *store,
                           const char *id,
                           struct VfRecord **out_record);

// Finds up to `limit` records whose raw or enhanced text has every word of
// `words`, newest first, as a new list at `*out_list` (free it with
// `vf_record_list_free`).
//
// # Safety
// `store` is NULL or a store from `vf_store_open*` not freed before the
// call returns; `words` is NULL or a NUL-terminated string; `out_list` is
// NULL or points to a writable `VfRecordList *` apart from them.
enum VfStatus vf_store_search(const struct VfStore *store,
                              const char *words,
                              size_t limit,
                              struct VfRecordList **out_list);

// Deletes the record `id`. Errors: `VF_ERROR_NOT_FOUND`,
// `VF_ERROR_INVALID_ARGUMENT` (not an id).
//
// # Safety
// `store` is NULL or a store from `vf_store_open*` not freed before the
// call returns; `id` is NULL or a NUL-terminated string.
enum VfStatus vf_store_delete(const struct VfStore *store,
                              const char *id);

// The number of records in the store.
//
// # Safety
// `store` is NULL or a store from `vf_store_open*` not freed before the
// call returns; `out_count` is NULL or points to a writable `size_t`.
enum VfStatus vf_store_count(const struct VfStore *store,
                             size_t *out_count);

// Makes every write that returned before this call durable on disk.
//
// # Safety
// `store` is NULL or a store from `vf_store_open*` not freed before the
// call returns.
enum VfStatus vf_store_flush(const struct VfStore *store);

// Flushes and closes a store; NULL does nothing.
//
// # Safety
// `store` is NULL or a store from `vf_store_open*`, not freed before, that
// no other thread is using; it must not be used afterwards.
void vf_store_free(struct VfStore *store);

// Fills `*out_options`, `struct_size` bytes long (pass
// `sizeof(VfStreamOptions)`), with the default stream options (voice
// activity detection on, 500 ms of silence ends an utterance, partials
// every 500 ms) and sets its `struct_size`. A size that no release of the
// header had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
//
// # Safety
// `out_options` is NULL or points to `struct_size` writable bytes, aligned
// for a `VfStreamOptions` (their old contents need not be initialised).
enum VfStatus vf_stream_options_default(struct VfStreamOptions *out_options,
                                        size_t struct_size);

// Fills `*out_callbacks`, `struct_size` bytes long (pass
// `sizeof(VfStreamCallbacks)`), with no callbacks and no finalizer (all
// NULL) and sets its `struct_size`. A size that no release of the header
// had is `VF_ERROR_INVALID_ARGUMENT` (and nothing is written).
//
// # Safety
// `out_callbacks` is NULL or points to `struct_size` writable bytes,
// aligned for a `VfStreamCallbacks` (their old contents need not be
// initialised).
enum VfStatus vf_stream_callbacks_default(struct VfStreamCallbacks *out_callbacks,
                                          size_t struct_size);

// Starts a streaming session on `engine` (the session keeps the engine
// alive: `vf_engine_free` may come first).
// `options` and `callbacks` may be NULL; `user_data` is passed to every
// callback and, at the end, to `callbacks->free_user_data`. On success
// `*out_stream` is a session to end with `vf_stream_finish` and free with
// `vf_stream_free`; on failure it is NULL (and `free_user_data` was called,
// unless `callbacks` itself was rejected for its `struct_size`).
//
// Errors: `VF_ERROR_INVALID_ARGUMENT` (bad options, a bad `struct_size`),
// `VF_ERROR_MODEL_NOT_FOUND` (no Silero VAD graph), `VF_ERROR_CLOSED`
// (closed engine).
//
// ```c
// VfStream *stream = NULL;
// VfStreamCallbacks callbacks;
// vf_stream_callbacks_default(&callbacks, sizeof callbacks);
// callbacks.on_final = print_final;
// if (vf_stream_new(engine, NULL, &callbacks, NULL, &stream) == VF_OK) {
//     vf_stream_push_pcm_i16(stream, pcm, n, 48000, 2);   /* as audio arrives */
//     VfTranscript *transcript = NULL;
//     vf_stream_finish(stream, &transcript);
//     vf_transcript_free(transcript);
// }
// vf_stream_free(stream);
// ```
//
// # Safety
// - `engine` is NULL or an engine from `vf_engine_new` not freed before
//   the call returns.
// - `options` is NULL or points to a `VfStreamOptions` initialised by
//   `vf_stream_options_default` (its `struct_size` bytes readable, every
//   field in them set) whose `language` and `vad_model` are NULL or
//   NUL-terminated strings.
// - `callbacks` is NULL or points to a `VfStreamCallbacks` initialised by
//   `vf_stream_callbacks_default` (its `struct_size` bytes readable) whose
//   members are NULL or functions of the declared types. The callbacks are called
//   with `user_data` on the session's own thread, not the caller's, until
//   the session ends; `free_user_data` once, on the thread that ends it
//   (or in this call, when it fails). `user_data` must be usable there,
//   alongside whatever the caller's threads do with it.
// - `out_stream` is NULL or points to a writable `VfStream *` apart from
//   the other arguments.
enum VfStatus vf_stream_new(const struct VfEngine *engine,
                            const struct VfStreamOptions *options,
                            const struct VfStreamCallbacks *callbacks,
                            void *user_data,
                            struct VfStream **out_stream);

// Hands `sample_count` float samples in [-1, 1] (interleaved when
// `channels` > 1, at any `sample_rate`; rate and channels may change
// between calls) to the session and returns at once.
//
// Errors: `VF_ERROR_QUEUE_FULL` when more than `max_backlog_s` of audio
// waits (the chunk was not taken: push it again later),
// `VF_ERROR_INVALID_AUDIO`, `VF_ERROR_INVALID_ARGUMENT`, `VF_ERROR_CLOSED`
// (the session stopped, failed or finished).
//
// # Safety
// `stream` is NULL or a session from `vf_stream_new` not freed before the
// call returns; `samples` points to `sample_count` floats (NULL when
// `sample_count` is 0) not written during the call.
enum VfStatus vf_stream_push_pcm(const struct VfStream *stream,
                                 const float *samples,
                                 size_t sample_count,
                                 uint32_t sample_rate,
                                 uint16_t channels);

// As `vf_stream_push_pcm` for signed 16-bit samples (scaled by 1/32768).
//
// # Safety
// As for `vf_stream_push_pcm`, with `samples` pointing to `sample_count`
// `int16_t`s.
enum VfStatus vf_stream_push_pcm_i16(const struct VfStream *stream,
                                     const int16_t *samples,
                                     size_t sample_count,
                                     uint32_t sample_rate,
                                     uint16_t channels);

// Ends the stream: waits until everything pushed is transcribed, commits
// speech still open, and writes the transcript of the whole stream (its
// segments are the finals) to `*out_transcript`, to free with
// `vf_transcript_free`. Later pushes fail with `VF_ERROR_CLOSED`; the
// session must still be freed. Not from inside a callback.
//
// Errors: the session's failure (as given to `on_error`), `VF_ERROR_CLOSED`
// when it was already finished.
//
// # Safety
// `stream` is NULL or a session from `vf_stream_new` not freed before the
// call returns; `out_transcript` is NULL or points to a writable
// `VfTranscript *`.
enum VfStatus vf_stream_finish(const struct VfStream *stream,
                               struct VfTranscript **out_transcript);

// Frees a session; NULL does nothing. Unfinished, it drops the audio still
// queued and waits for the decoding in progress. Not from inside a callback.
//
// # Safety
// `stream` is NULL or a session from `vf_stream_new`, not freed before,
// that no other thread is using (pushing to it); it must not be used
// afterwards.
void vf_stream_free(struct VfStream *stream);

// The full text (UTF-8; empty when there was no speech), valid until the
// transcript is freed.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_text` is NULL
// or points to a writable `const char *`.
enum VfStatus vf_transcript_text(const struct VfTranscript *transcript,
                                 const char **out_text);

// The language code (`"en"`), valid until the transcript is freed.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_language` is
// NULL or points to a writable `const char *`.
enum VfStatus vf_transcript_language(const struct VfTranscript *transcript,
                                     const char **out_language);

// The probability of the language, 0 to 1: the model's when it detected
// it (on 30 s from the first speech), 1 when it was given or the model is
// English-only, 0 when there was nothing to detect it on.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns;
// `out_probability` is NULL or points to a writable `float`.
enum VfStatus vf_transcript_language_probability(const struct VfTranscript *transcript,
                                                 float *out_probability);

// The duration of the audio in seconds.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_seconds` is
// NULL or points to a writable `double`.
enum VfStatus vf_transcript_duration(const struct VfTranscript *transcript,
                                     double *out_seconds);

// The number of segments.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_count` is NULL
// or points to a writable `size_t`.
enum VfStatus vf_transcript_segment_count(const struct VfTranscript *transcript,
                                          size_t *out_count);

// Segment `index` (0-based); `VF_ERROR_INVALID_ARGUMENT` past the end.
// Its text is valid until the transcript is freed.
//
// ```c
// size_t count;
// vf_transcript_segment_count(transcript, &count);
// for (size_t i = 0; i < count; i++) {
//     VfSegment s;
//     vf_transcript_segment(transcript, i, &s);
//     printf("[%.2f-%.2f] %s\n", s.start, s.end, s.text);
// }
// ```
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_segment` is
// NULL or points to a writable `VfSegment`.
enum VfStatus vf_transcript_segment(const struct VfTranscript *transcript,
                                    size_t index,
                                    struct VfSegment *out_segment);

// The number of words of segment `segment` (0-based): 0 unless the
// transcription asked for word timestamps (`word_timestamps` in
// `VfTranscribeOptions`); `VF_ERROR_INVALID_ARGUMENT` past the last segment.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_count` is NULL
// or points to a writable `size_t`.
enum VfStatus vf_transcript_word_count(const struct VfTranscript *transcript,
                                       size_t segment,
                                       size_t *out_count);

// Word `index` of segment `segment` (both 0-based);
// `VF_ERROR_INVALID_ARGUMENT` past the end. Its text is valid until the
// transcript is freed.
//
// ```c
// size_t words;
// vf_transcript_word_count(transcript, i, &words);
// for (size_t w = 0; w < words; w++) {
//     VfWord word;
//     vf_transcript_word(transcript, i, w, &word);
//     printf("[%.2f-%.2f %.2f]%s\n", word.start, word.end, word.probability, word.word);
// }
// ```
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish` not freed before the call returns; `out_word` is NULL
// or points to a writable `VfWord`.
enum VfStatus vf_transcript_word(const struct VfTranscript *transcript,
                                 size_t segment,
                                 size_t index,
                                 struct VfWord *out_word);

// Frees a transcript; NULL does nothing.
//
// # Safety
// `transcript` is NULL or a transcript from `vf_engine_transcribe_*` or
// `vf_stream_finish`, not freed before, that no other thread is using.
// Neither it nor strings read from it may be used afterwards.
void vf_transcript_free(struct VfTranscript *transcript);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* VOICEFLOW_H */
