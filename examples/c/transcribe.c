/* Transcribes a WAV file: transcribe MODEL_DIR FILE.wav (ONNX Runtime from ORT_DYLIB_PATH). */
#include <stdio.h>
#include <voiceflow.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_DIR FILE.wav\n", argv[0]);
        return 2;
    }
    VfEngine *engine = NULL;
    VfTranscript *transcript = NULL;
    const char *text = NULL;
    /* Option structs start from their defaults (which set struct_size); NULL means the same. */
    VfTranscribeOptions options;
    VfStatus status = vf_transcribe_options_default(&options, sizeof options);
    if (status == VF_OK)
        status = vf_engine_new(argv[1], NULL, &engine);
    if (status == VF_OK)
        status = vf_engine_transcribe_file(engine, argv[2], &options, &transcript);
    if (status == VF_OK)
        status = vf_transcript_text(transcript, &text);
    if (status == VF_OK)
        printf("%s\n", text);
    else
        fprintf(stderr, "%s: %s\n", vf_status_name(status), vf_last_error_message());
    vf_transcript_free(transcript);
    vf_engine_free(engine);
    return status == VF_OK ? 0 : 1;
}
