/*
 * Every error path of the C API that a caller can hit: each call's status is
 * checked against the expected code, failures must leave a message, and the
 * program exits non-zero on any mismatch.
 *
 * usage: error_paths MODEL_DIR SCRATCH_DIR   (ONNX Runtime from ORT_DYLIB_PATH)
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <voiceflow.h>

static int failures = 0;

/* Checks a status; a failure must come with a non-empty last-error message. */
static void check(VfStatus got, VfStatus expected, const char *call, int line) {
    if (got != expected) {
        fprintf(stderr, "line %d: %s\n  returned %s, expected %s (%s)\n", line, call,
                vf_status_name(got), vf_status_name(expected), vf_last_error_message());
        failures++;
    } else if (got != VF_OK && vf_last_error_message()[0] == '\0') {
        fprintf(stderr, "line %d: %s failed without a message\n", line, call);
        failures++;
    }
}
#define EXPECT(call, expected) check((call), (expected), #call, __LINE__)

/* Checks that the last error message mentions `part`. */
static void mentions(const char *part, int line) {
    if (strstr(vf_last_error_message(), part) == NULL) {
        fprintf(stderr, "line %d: last error \"%s\" does not mention \"%s\"\n", line,
                vf_last_error_message(), part);
        failures++;
    }
}
#define MENTIONS(part) mentions((part), __LINE__)

#define TRUE_THAT(condition)                                                   \
    do {                                                                       \
        if (!(condition)) {                                                    \
            fprintf(stderr, "line %d: %s is false\n", __LINE__, #condition);   \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void arguments_and_messages(void) {
    VfEngine *engine = (VfEngine *)&failures; /* must be cleared to NULL */
    EXPECT(vf_engine_new(NULL, NULL, &engine), VF_ERROR_NULL_POINTER);
    MENTIONS("model_dir");
    TRUE_THAT(engine == NULL);
    EXPECT(vf_engine_new("models", NULL, NULL), VF_ERROR_NULL_POINTER);
    MENTIONS("out_engine");
    EXPECT(vf_engine_new("mod\xff\xfe", NULL, &engine), VF_ERROR_INVALID_UTF8);
    MENTIONS("UTF-8");
    EXPECT(vf_engine_new("/nonexistent/whisper-none", NULL, &engine), VF_ERROR_MODEL_NOT_FOUND);
    MENTIONS("whisper-none");
    TRUE_THAT(engine == NULL);

    const char *text = "unchanged";
    EXPECT(vf_transcript_text(NULL, &text), VF_ERROR_NULL_POINTER);
    TRUE_THAT(text == NULL);
    size_t count = 7;
    EXPECT(vf_record_list_count(NULL, &count), VF_ERROR_NULL_POINTER);
    TRUE_THAT(count == 0);
    EXPECT(vf_engine_transcribe_file(NULL, "a.wav", NULL, NULL), VF_ERROR_NULL_POINTER);
    EXPECT(vf_engine_close(NULL), VF_ERROR_NULL_POINTER);
    EXPECT(vf_store_flush(NULL), VF_ERROR_NULL_POINTER);
    EXPECT(vf_enhancer_close(NULL), VF_ERROR_NULL_POINTER);
    EXPECT(vf_transcribe_options_default(NULL, sizeof(VfTranscribeOptions)), VF_ERROR_NULL_POINTER);

    /* Size-versioned structs: the defaults set struct_size; a size no header
     * had (0: an uninitialised or zeroed struct) is rejected, naming the struct. */
    VfTranscribeOptions sized;
    EXPECT(vf_transcribe_options_default(&sized, sizeof sized), VF_OK);
    TRUE_THAT(sized.struct_size == sizeof sized);
    EXPECT(vf_transcribe_options_default(&sized, 0), VF_ERROR_INVALID_ARGUMENT);
    MENTIONS("VfTranscribeOptions");
    EXPECT(vf_transcribe_options_default(&sized, sizeof sized - sizeof(size_t)),
           VF_ERROR_INVALID_ARGUMENT);
    TRUE_THAT(sized.struct_size == sizeof sized); /* nothing written */
    VfStreamCallbacks callbacks;
    EXPECT(vf_stream_callbacks_default(&callbacks, sizeof callbacks), VF_OK);
    TRUE_THAT(callbacks.struct_size == sizeof callbacks && callbacks.on_final == NULL &&
              callbacks.free_user_data == NULL);
    VfEngineOptions zeroed = {0};
    EXPECT(vf_engine_new("/nonexistent/whisper-none", &zeroed, &engine), VF_ERROR_INVALID_ARGUMENT);
    MENTIONS("VfEngineOptions");
    MENTIONS("struct_size 0");
    TRUE_THAT(engine == NULL);
    VfQuery query;
    EXPECT(vf_query_default(&query, sizeof query + 8), VF_ERROR_INVALID_ARGUMENT);
    MENTIONS("newer voiceflow.h");
    EXPECT(vf_query_default(&query, sizeof query), VF_OK);
    TRUE_THAT(query.struct_size == sizeof query && query.limit == 50);

    /* The message can be copied whole, cut to a buffer, or sized. */
    EXPECT(vf_engine_new("/nonexistent/whisper-none", NULL, &engine), VF_ERROR_MODEL_NOT_FOUND);
    size_t length = 0;
    char small[8];
    EXPECT(vf_last_error_copy(NULL, 0, &length), VF_OK);
    TRUE_THAT(length == strlen(vf_last_error_message()));
    EXPECT(vf_last_error_copy(small, sizeof small, &length), VF_OK);
    TRUE_THAT(strlen(small) == sizeof small - 1);
    TRUE_THAT(strncmp(small, vf_last_error_message(), sizeof small - 1) == 0);
    EXPECT(vf_last_error_copy(NULL, 4, &length), VF_ERROR_NULL_POINTER);

    TRUE_THAT(strcmp(vf_status_name(VF_OK), "VF_OK") == 0);
    TRUE_THAT(strcmp(vf_status_name(VF_ERROR_QUEUE_FULL), "VF_ERROR_QUEUE_FULL") == 0);
    TRUE_THAT(strcmp(vf_status_name(12345), "VF_ERROR_UNKNOWN") == 0);
    TRUE_THAT(strcmp(vf_version(), "") != 0);
}

static void engine_errors(const char *model_dir) {
    VfEngineOptions engine_options;
    EXPECT(vf_engine_options_default(&engine_options, sizeof engine_options), VF_OK);
    VfEngine *engine = NULL;
    engine_options.threads = 0;
    EXPECT(vf_engine_new(model_dir, &engine_options, &engine), VF_ERROR_INVALID_ARGUMENT);
    engine_options.threads = 1;
    engine_options.runtime_library = "/nonexistent/libonnxruntime.so";
    EXPECT(vf_engine_new(model_dir, &engine_options, &engine), VF_ERROR_RUNTIME_NOT_FOUND);
    engine_options.runtime_library = NULL;
    engine_options.device = "gpu";
    EXPECT(vf_engine_new(model_dir, &engine_options, &engine), VF_ERROR_INVALID_ARGUMENT);
    MENTIONS("device");
    /* The tests' ONNX Runtime library has no CUDA provider. */
    engine_options.device = "cuda";
    EXPECT(vf_engine_new(model_dir, &engine_options, &engine), VF_ERROR_DEVICE_UNAVAILABLE);
    MENTIONS("device cuda is not available");
    TRUE_THAT(engine == NULL);
    engine_options.device = "cpu";
    EXPECT(vf_engine_new(model_dir, &engine_options, &engine), VF_OK);
    const char *encoder_provider = NULL, *decoder_provider = NULL;
    EXPECT(vf_engine_providers(engine, &encoder_provider, &decoder_provider), VF_OK);
    TRUE_THAT(strcmp(encoder_provider, "CPU") == 0 && strcmp(decoder_provider, "CPU") == 0);

    VfTranscript *transcript = NULL;
    float second[16000] = {0};
    float nan_samples[4] = {0.0f, NAN, 0.0f, 0.0f};
    EXPECT(vf_engine_transcribe_pcm(engine, second, 16000, 0, 1, NULL, &transcript),
           VF_ERROR_INVALID_ARGUMENT);
    MENTIONS("sample rate");
    EXPECT(vf_engine_transcribe_pcm(engine, nan_samples, 4, 16000, 1, NULL, &transcript),
           VF_ERROR_INVALID_AUDIO);
    EXPECT(vf_engine_transcribe_pcm(engine, second, 0, 16000, 1, NULL, &transcript),
           VF_ERROR_INVALID_AUDIO);
    EXPECT(vf_engine_transcribe_pcm(engine, NULL, 0, 16000, 1, NULL, &transcript),
           VF_ERROR_INVALID_AUDIO);
    EXPECT(vf_engine_transcribe_pcm(engine, NULL, 16000, 16000, 1, NULL, &transcript),
           VF_ERROR_NULL_POINTER);
    EXPECT(vf_engine_transcribe_pcm(engine, second, 3, 16000, 2, NULL, &transcript),
           VF_ERROR_INVALID_AUDIO);
    EXPECT(vf_engine_transcribe_pcm(engine, second, (size_t)-1, 16000, 1, NULL, &transcript),
           VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_engine_transcribe_file(engine, "/nonexistent/a.wav", NULL, &transcript), VF_ERROR_IO);
    EXPECT(vf_engine_transcribe_file(engine, "caf\xe9.wav", NULL, &transcript),
           VF_ERROR_INVALID_UTF8);
    const unsigned char garbage[] = "RIFF0000WAVEjunk";
    EXPECT(vf_engine_transcribe_wav_bytes(engine, garbage, sizeof garbage, NULL, &transcript),
           VF_ERROR_INVALID_WAV);
    EXPECT(vf_engine_transcribe_bytes(engine, garbage, sizeof garbage, NULL, &transcript),
           VF_ERROR_INVALID_WAV);
    const unsigned char not_audio[] = "fLaC but not really an audio file at all";
    EXPECT(vf_engine_transcribe_bytes(engine, not_audio, sizeof not_audio, NULL, &transcript),
           VF_ERROR_INVALID_WAV);
    EXPECT(vf_engine_transcribe_bytes(engine, NULL, 0, NULL, &transcript), VF_ERROR_INVALID_WAV);

    VfTranscribeOptions options;
    EXPECT(vf_transcribe_options_default(&options, sizeof options), VF_OK);
    options.beam_size = 0;
    EXPECT(vf_engine_transcribe_pcm(engine, second, 16000, 16000, 1, &options, &transcript),
           VF_ERROR_INVALID_ARGUMENT);
    options.beam_size = 1;
    options.task = 7;
    EXPECT(vf_engine_transcribe_pcm(engine, second, 16000, 16000, 1, &options, &transcript),
           VF_ERROR_INVALID_ARGUMENT);
    options.task = VF_TASK_TRANSLATE; /* tiny.en is English-only */
    EXPECT(vf_engine_transcribe_pcm(engine, second, 16000, 16000, 1, &options, &transcript),
           VF_ERROR_INVALID_ARGUMENT);
    TRUE_THAT(transcript == NULL);

    EXPECT(vf_engine_close(engine), VF_OK);
    EXPECT(vf_engine_transcribe_pcm(engine, second, 16000, 16000, 1, NULL, &transcript),
           VF_ERROR_CLOSED);
    vf_engine_free(engine);
}

/* Word timestamps through the accessors: report.wav's words, in order, each
 * with its time and probability; indexes past the end are refused. */
static void word_timestamps(const char *model_dir) {
    VfEngine *engine = NULL;
    EXPECT(vf_engine_new(model_dir, NULL, &engine), VF_OK);
    VfTranscribeOptions options;
    EXPECT(vf_transcribe_options_default(&options, sizeof options), VF_OK);
    options.word_timestamps = true;
    VfTranscript *transcript = NULL;
    EXPECT(vf_engine_transcribe_file(engine, "tests/fixtures/speech/report.wav", &options,
                                     &transcript),
           VF_OK);
    size_t segments = 0, words = 0, total = 0;
    EXPECT(vf_transcript_segment_count(transcript, &segments), VF_OK);
    TRUE_THAT(segments > 0);
    float previous = 0.0f;
    VfWord word;
    for (size_t i = 0; i < segments; i++) {
        EXPECT(vf_transcript_word_count(transcript, i, &words), VF_OK);
        TRUE_THAT(words > 0);
        for (size_t w = 0; w < words; w++) {
            EXPECT(vf_transcript_word(transcript, i, w, &word), VF_OK);
            TRUE_THAT(word.word != NULL && word.word[0] != '\0');
            TRUE_THAT(word.start >= previous && word.start <= word.end);
            TRUE_THAT(word.probability >= 0.0f && word.probability <= 1.0f);
            previous = word.start;
        }
        EXPECT(vf_transcript_word(transcript, i, words, &word), VF_ERROR_INVALID_ARGUMENT);
        TRUE_THAT(word.word == NULL);
        total += words;
    }
    TRUE_THAT(total >= 10); /* "Please send the quarterly report to the finance team by Friday." */
    EXPECT(vf_transcript_word_count(transcript, segments, &words), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_transcript_word(transcript, segments, 0, &word), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_transcript_word_count(NULL, 0, &words), VF_ERROR_NULL_POINTER);
    vf_transcript_free(transcript);
    vf_engine_free(engine);
}

/* An ONNX Runtime error keeps its text: a model folder whose encoder is not an
 * ONNX graph fails with our context followed by ONNX Runtime's message. */
static void onnx_runtime_errors(const char *model_dir, const char *scratch) {
    char copy[2048], from[4096], to[4096], cwd[1024] = "";
    snprintf(copy, sizeof copy, "%s/broken-model", scratch);
    if (model_dir[0] != '/') { /* the links are absolute */
        TRUE_THAT(getcwd(cwd, sizeof cwd - 1) != NULL);
        strcat(cwd, "/");
    }
    TRUE_THAT(mkdir(copy, 0700) == 0);
    const char *kept[] = {"config.json", "generation_config.json", "tokenizer.json",
                          "decoder_model_merged.onnx", "decoder_model_merged.onnx_data"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(from, sizeof from, "%s%s/%s", cwd, model_dir, kept[i]);
        snprintf(to, sizeof to, "%s/%s", copy, kept[i]);
        TRUE_THAT(access(from, R_OK) != 0 || symlink(from, to) == 0);
    }
    snprintf(to, sizeof to, "%s/encoder_model.onnx", copy);
    FILE *encoder = fopen(to, "wb");
    TRUE_THAT(encoder != NULL);
    if (encoder != NULL) {
        fputs("not an onnx graph", encoder);
        fclose(encoder);
    }
    VfEngine *engine = NULL;
    EXPECT(vf_engine_new(copy, NULL, &engine), VF_ERROR_MODEL_MALFORMED);
    TRUE_THAT(engine == NULL);
    MENTIONS("malformed model file");
    MENTIONS("ONNX Runtime cannot load the graph: ");
    MENTIONS("Protobuf parsing failed"); /* ONNX Runtime's own text */
}

static void store_errors(const char *scratch) {
    char path[4096];
    snprintf(path, sizeof path, "%s/store", scratch);
    VfStore *store = NULL;
    EXPECT(vf_store_open(path, "", &store), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_store_open(path, "right passphrase", &store), VF_OK);
    char *id = NULL;
    EXPECT(vf_store_put_text(store, "", "no context", NULL, &id), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_store_put_text(store, "chat", "see you at noon", NULL, &id), VF_OK);
    TRUE_THAT(id != NULL && strlen(id) == 32);

    VfRecord *record = NULL;
    EXPECT(vf_store_get(store, "not an id", &record), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_store_get(store, "00000000000000000000000000000000", &record), VF_ERROR_NOT_FOUND);
    char tampered[33];
    memcpy(tampered, id, 33);
    tampered[31] = tampered[31] == '0' ? '1' : '0';
    EXPECT(vf_store_get(store, tampered, &record), VF_ERROR_NOT_FOUND);
    EXPECT(vf_store_delete(store, tampered), VF_ERROR_NOT_FOUND);
    EXPECT(vf_store_get(store, id, &record), VF_OK);
    const char *enhanced = "unchanged";
    EXPECT(vf_record_enhanced_text(record, &enhanced), VF_OK);
    TRUE_THAT(enhanced == NULL);
    vf_record_free(record);

    VfRecordList *list = NULL;
    const VfRecord *borrowed = NULL;
    EXPECT(vf_store_search(store, "noon", 10, &list), VF_OK);
    EXPECT(vf_record_list_get(list, 5, &borrowed), VF_ERROR_INVALID_ARGUMENT);
    vf_record_list_free(list);
    vf_string_free(id);
    vf_store_free(store);

    store = NULL;
    EXPECT(vf_store_open(path, "wrong passphrase", &store), VF_ERROR_WRONG_KEY);
    TRUE_THAT(store == NULL);
    const unsigned char key[32] = {1};
    EXPECT(vf_store_open_with_key(path, key, 31, &store), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_store_open_with_key(path, key, 32, &store), VF_ERROR_WRONG_KEY);
    EXPECT(vf_store_open_unencrypted(path, &store), VF_ERROR_WRONG_KEY);
    EXPECT(vf_store_open_unencrypted(scratch, &store), VF_ERROR_STORE_FORMAT);
}

static void enhancer_errors(void) {
    VfEnhancer *enhancer = NULL;
    EXPECT(vf_enhancer_new(0, 1, &enhancer), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_enhancer_new(1, 1, &enhancer), VF_OK);
    char *out = NULL;
    EXPECT(vf_enhancer_enhance(enhancer, "hi", 99, 0, &out), VF_ERROR_INVALID_ARGUMENT);
    EXPECT(vf_enhancer_enhance(enhancer, "\xc3\x28", VF_CONTEXT_CHAT, 0, &out),
           VF_ERROR_INVALID_UTF8);

    /* The worker takes the first long text (the call times out, the work goes
     * on: about 0.9 s in a debug build, far longer than the 100-ms timeouts),
     * the second waits in the queue of one: the third is refused. */
    const char *phrase = "um so the the rate is twenty five percent comma right ";
    size_t repeats = 150000, size = strlen(phrase);
    char *long_text = malloc(repeats * size + 1);
    for (size_t i = 0; i < repeats; i++)
        memcpy(long_text + i * size, phrase, size);
    long_text[repeats * size] = '\0';
    EXPECT(vf_enhancer_enhance(enhancer, long_text, VF_CONTEXT_GENERAL, 100, &out), VF_ERROR_TIMEOUT);
    EXPECT(vf_enhancer_enhance(enhancer, long_text, VF_CONTEXT_GENERAL, 100, &out), VF_ERROR_TIMEOUT);
    EXPECT(vf_enhancer_enhance(enhancer, "hi", VF_CONTEXT_GENERAL, 100, &out), VF_ERROR_QUEUE_FULL);
    TRUE_THAT(out == NULL);
    free(long_text);

    EXPECT(vf_enhancer_close(enhancer), VF_OK);
    EXPECT(vf_enhancer_enhance(enhancer, "hi", VF_CONTEXT_GENERAL, 0, &out), VF_ERROR_CLOSED);
    vf_enhancer_free(enhancer);
}

int main(int argc, char **argv) {
    /* --transcribe: also the checks that run a whole transcription (the
     * word accessors); run.sh gives it natively, not under valgrind, where
     * ONNX Runtime's kernels run over a thousand times slower. */
    int transcribe = argc == 4 && strcmp(argv[3], "--transcribe") == 0;
    if (argc != 3 && !transcribe) {
        fprintf(stderr, "usage: %s MODEL_DIR SCRATCH_DIR [--transcribe]\n", argv[0]);
        return 2;
    }
    arguments_and_messages();
    engine_errors(argv[1]);
    if (transcribe) {
        word_timestamps(argv[1]);
    }
    onnx_runtime_errors(argv[1], argv[2]);
    store_errors(argv[2]);
    enhancer_errors();

    vf_engine_free(NULL);
    vf_transcript_free(NULL);
    vf_store_free(NULL);
    vf_record_free(NULL);
    vf_record_list_free(NULL);
    vf_enhancer_free(NULL);
    vf_string_free(NULL);

    if (failures > 0) {
        fprintf(stderr, "error_paths: %d check(s) failed\n", failures);
        return 1;
    }
    printf("error_paths: all checks passed\n");
    return 0;
}
