/* Live captions of a WAV file: stream MODEL_DIR FILE.wav (16-bit PCM, any rate and channels).
 * The file is pushed in 100-ms chunks as if it came from a microphone; partials go to
 * stderr, each committed sentence to stdout on its own line. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <voiceflow.h>

/* What the callbacks share; freed by the session's finalizer. */
typedef struct {
    size_t finals;
    char *text; /* the finals joined, to compare with the transcript */
} Captions;

static VfControl on_partial(const VfPartial *partial, void *user_data) {
    (void)user_data;
    fprintf(stderr, "  ... %s\n", partial->text);
    return VF_CONTINUE;
}

static VfControl on_final(const VfSegment *segment, void *user_data) {
    Captions *captions = user_data;
    size_t old = captions->text ? strlen(captions->text) : 0;
    char *text = realloc(captions->text, old + strlen(segment->text) + 2);
    if (!text)
        return VF_STOP;
    sprintf(text + old, "%s%s", old ? " " : "", segment->text);
    captions->text = text;
    captions->finals++;
    printf("%s\n", segment->text);
    fflush(stdout);
    return VF_CONTINUE;
}

static void on_error(VfStatus status, const char *message, void *user_data) {
    (void)user_data;
    fprintf(stderr, "stream failed: %s: %s\n", vf_status_name(status), message);
}

static void free_captions(void *user_data) {
    Captions *captions = user_data;
    free(captions->text);
    free(captions);
}

/* Reads a 16-bit PCM WAV file: its samples (to free), count, rate and channels. */
static int16_t *read_wav(const char *path, size_t *count, uint32_t *rate, uint16_t *channels) {
    FILE *file = fopen(path, "rb");
    uint8_t header[12], chunk[8], format[16];
    int16_t *samples = NULL;
    int have_format = 0;
    if (!file || fread(header, 1, 12, file) != 12 || memcmp(header, "RIFF", 4) || memcmp(header + 8, "WAVE", 4))
        goto done;
    while (fread(chunk, 1, 8, file) == 8) {
        uint32_t size = chunk[4] | chunk[5] << 8 | chunk[6] << 16 | (uint32_t)chunk[7] << 24;
        if (!memcmp(chunk, "fmt ", 4) && size >= 16 && fread(format, 1, 16, file) == 16) {
            *channels = format[2] | format[3] << 8;
            *rate = format[4] | format[5] << 8 | format[6] << 16 | (uint32_t)format[7] << 24;
            have_format = (format[0] | format[1] << 8) == 1 && (format[14] | format[15] << 8) == 16;
            fseek(file, (long)(size - 16 + (size & 1)), SEEK_CUR);
        } else if (!memcmp(chunk, "data", 4) && have_format) {
            samples = malloc(size ? size : 1);
            *count = samples ? fread(samples, 2, size / 2, file) : 0; /* little-endian hosts */
            goto done;
        } else {
            fseek(file, (long)(size + (size & 1)), SEEK_CUR);
        }
    }
done:
    if (file)
        fclose(file);
    return samples;
}

/* Pushes one chunk, waiting while the session's backlog is full. */
static VfStatus push(VfStream *stream, const int16_t *samples, size_t count, uint32_t rate, uint16_t channels) {
    for (;;) {
        VfStatus status = vf_stream_push_pcm_i16(stream, samples, count, rate, channels);
        if (status != VF_ERROR_QUEUE_FULL)
            return status;
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_DIR FILE.wav\n", argv[0]);
        return 2;
    }
    size_t count = 0;
    uint32_t rate = 0;
    uint16_t channels = 0;
    int16_t *samples = read_wav(argv[2], &count, &rate, &channels);
    if (!samples || !rate || !channels) {
        fprintf(stderr, "%s: not a 16-bit PCM WAV file\n", argv[2]);
        free(samples);
        return 1;
    }
    VfEngine *engine = NULL;
    VfStream *stream = NULL;
    VfTranscript *transcript = NULL;
    const char *text = NULL;
    Captions *captions = calloc(1, sizeof *captions);
    VfStreamCallbacks callbacks;
    vf_stream_callbacks_default(&callbacks, sizeof callbacks); /* all NULL, struct_size set */
    callbacks.on_partial = on_partial;
    callbacks.on_final = on_final;
    callbacks.on_error = on_error;
    callbacks.free_user_data = free_captions; /* called once when the session is done */
    VfStreamOptions options;
    vf_stream_options_default(&options, sizeof options); /* then change fields, e.g. vad_model */
    VfStatus status = captions ? vf_engine_new(argv[1], NULL, &engine) : VF_ERROR_UNKNOWN;
    if (status == VF_OK) {
        status = vf_stream_new(engine, &options, &callbacks, captions, &stream);
        captions = NULL; /* the session owns it now (or freed it on failure) */
    }
    size_t chunk = (size_t)(rate / 10) * channels; /* 100 ms */
    for (size_t at = 0; status == VF_OK && at < count; at += chunk)
        status = push(stream, samples + at, count - at < chunk ? count - at : chunk, rate, channels);
    /* A second of silence: the speaker has stopped. */
    int16_t *silence = calloc((size_t)rate * channels, sizeof *silence);
    if (status == VF_OK)
        status = silence ? push(stream, silence, (size_t)rate * channels, rate, channels) : VF_ERROR_UNKNOWN;
    if (status == VF_OK)
        status = vf_stream_finish(stream, &transcript);
    if (status == VF_OK)
        status = vf_transcript_text(transcript, &text);
    if (status == VF_OK)
        fprintf(stderr, "transcript: %s\n", text);
    else
        fprintf(stderr, "%s: %s\n", vf_status_name(status), vf_last_error_message());
    free(captions);
    free(silence);
    free(samples);
    vf_transcript_free(transcript);
    vf_stream_free(stream);
    vf_engine_free(engine);
    return status == VF_OK ? 0 : 1;
}
