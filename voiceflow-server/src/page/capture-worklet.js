// VoiceFlow's capture worklet: the microphone's first channel, in frames of
// 100 ms of signed 16-bit little-endian samples, posted to the page, which
// sends them over the WebSocket. The AudioContext runs at 16 kHz when the
// browser allows it; otherwise the page declares the context's own rate and
// the server resamples.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 10);
    this.frame = new Int16Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        const s = Math.max(-1, Math.min(1, channel[i]));
        this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.filled === this.size) {
          // Transferred, not copied: the old frame is detached after this.
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
          this.frame = new Int16Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("voiceflow-capture", CaptureProcessor);
