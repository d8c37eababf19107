//! The enhancer handle: the rule enhancer behind the bounded enhancement
//! queue.

use std::ffi::c_char;
use std::time::Duration;

use voiceflow_core::enhance::{
    Context, EnhancePipeline, EnhanceRequest, Job, PipelineConfig, RuleEnhancer, Shutdown,
};

use crate::boundary::{arg, guard, out, utf8, FfiError, FfiResult};
use crate::handle::{free_handle, into_handle, owned_string};
use crate::status::VfStatus;

/// Where dictated text is going; decides the rules applied.
pub type VfContext = u32;
/// Plain dictation: full sentences.
pub const VF_CONTEXT_GENERAL: VfContext = 0;
/// An email: greeting and sign-off on their own lines, paragraphs.
pub const VF_CONTEXT_EMAIL: VfContext = 1;
/// A chat message: short and casual, no forced final period.
pub const VF_CONTEXT_CHAT: VfContext = 2;
/// A document: paragraphs, full sentences, spoken headings.
pub const VF_CONTEXT_DOCUMENT: VfContext = 3;
/// Source code: spoken symbols and identifier casing.
pub const VF_CONTEXT_CODE: VfContext = 4;

/// The core context for a `VfContext` value: the ABI's own numbering,
/// spelled out (a new core context gets a new number here, never a shift).
pub(crate) fn core_context(value: VfContext) -> FfiResult<Context> {
    match value {
        VF_CONTEXT_GENERAL => Ok(Context::General),
        VF_CONTEXT_EMAIL => Ok(Context::Email),
        VF_CONTEXT_CHAT => Ok(Context::Chat),
        VF_CONTEXT_DOCUMENT => Ok(Context::Document),
        VF_CONTEXT_CODE => Ok(Context::Code),
        _ => Err(FfiError::invalid(format!(
            "unknown context {value}; use VF_CONTEXT_GENERAL ... VF_CONTEXT_CODE (0-4)"
        ))),
    }
}

/// The rule enhancer behind a bounded queue served by worker threads
/// (opaque). Thread-safe: one enhancer may be used from many threads.
pub struct VfEnhancer {
    pipeline: EnhancePipeline,
}

/// Starts an enhancer with a queue of `capacity` waiting requests (1 to
/// 65536) and `workers` threads (1 to 1024); other values are
/// `VF_ERROR_INVALID_ARGUMENT`. Free it with `vf_enhancer_free`.
///
/// # Safety
/// `out_enhancer` is NULL or points to a writable `VfEnhancer *`.
#[no_mangle]
pub unsafe extern "C" fn vf_enhancer_new(
    capacity: usize,
    workers: usize,
    out_enhancer: *mut *mut VfEnhancer,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_enhancer` is NULL or writable for the call (# Safety).
        let out_enhancer = unsafe { out(out_enhancer, "out_enhancer", std::ptr::null_mut())? };
        let config = PipelineConfig { capacity, workers };
        *out_enhancer = into_handle(VfEnhancer {
            pipeline: EnhancePipeline::new(RuleEnhancer, config)?,
        });
        Ok(())
    })
}

/// Finishes the dictated `text` for `context` (fillers removed, spoken
/// punctuation and numbers written, casing) and writes the result to
/// `*out_text`, a string to free with `vf_string_free`. Waits at most
/// `timeout_ms` milliseconds (0: no limit; any `uint32_t` is valid).
///
/// Errors: `VF_ERROR_QUEUE_FULL` at once when the queue is full (nothing
/// was accepted), `VF_ERROR_TIMEOUT`, `VF_ERROR_CLOSED` after
/// `vf_enhancer_close`, `VF_ERROR_INVALID_ARGUMENT` for an unknown context.
///
/// ```c
/// char *finished = NULL;
/// if (vf_enhancer_enhance(enhancer, "um hello comma world", VF_CONTEXT_CHAT, 1000, &finished) == VF_OK)
///     puts(finished); // "Hello, world"
/// vf_string_free(finished);
/// ```
///
/// # Safety
/// `enhancer` is NULL or an enhancer from `vf_enhancer_new` not freed
/// before the call returns; `text` is NULL or a NUL-terminated string;
/// `out_text` is NULL or points to a writable `char *` apart from them.
#[no_mangle]
pub unsafe extern "C" fn vf_enhancer_enhance(
    enhancer: *const VfEnhancer,
    text: *const c_char,
    context: VfContext,
    timeout_ms: u32,
    out_text: *mut *mut c_char,
) -> VfStatus {
    guard(|| {
        // SAFETY: `out_text` is NULL or writable and unaliased (# Safety).
        let out_text = unsafe { out(out_text, "out_text", std::ptr::null_mut())? };
        // SAFETY: `enhancer` is NULL or live for the call (# Safety).
        let pipeline = &unsafe { arg(enhancer, "enhancer")? }.pipeline;
        // SAFETY: `text` is NULL or a NUL-terminated string (# Safety); the
        // job takes a copy, so no worker thread sees the caller's memory.
        let text = unsafe { utf8(text, "text")? };
        let mut job = Job::new(text, EnhanceRequest::new(core_context(context)?));
        let timeout = Duration::from_millis(timeout_ms.into());
        if timeout_ms > 0 {
            job = job.within(timeout);
        }
        let ticket = pipeline.try_submit(job)?;
        let enhanced = if timeout_ms > 0 {
            ticket.wait_timeout(timeout)?
        } else {
            ticket.wait()?
        };
        *out_text = owned_string(&enhanced.text)?;
        Ok(())
    })
}

/// Stops the enhancer: queued requests are finished, later ones fail with
/// `VF_ERROR_CLOSED`. The handle must still be freed with `vf_enhancer_free`.
///
/// # Safety
/// `enhancer` is NULL or an enhancer from `vf_enhancer_new` not freed
/// before the call returns.
#[no_mangle]
pub unsafe extern "C" fn vf_enhancer_close(enhancer: *const VfEnhancer) -> VfStatus {
    guard(|| {
        // SAFETY: `enhancer` is NULL or live for the call (# Safety).
        unsafe { arg(enhancer, "enhancer")? }
            .pipeline
            .shutdown(Shutdown::Drain);
        Ok(())
    })
}

/// Frees an enhancer (finishing queued requests first); NULL does nothing.
///
/// # Safety
/// `enhancer` is NULL or an enhancer from `vf_enhancer_new`, not freed
/// before, that no other thread is using; it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn vf_enhancer_free(enhancer: *mut VfEnhancer) {
    // SAFETY: NULL or an unfreed enhancer made by `into_handle`, with no
    // other user (# Safety).
    unsafe { free_handle(enhancer) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_values_follow_the_core_contexts() {
        let values = [
            VF_CONTEXT_GENERAL,
            VF_CONTEXT_EMAIL,
            VF_CONTEXT_CHAT,
            VF_CONTEXT_DOCUMENT,
            VF_CONTEXT_CODE,
        ];
        let names: Vec<&str> = values.map(|v| core_context(v).unwrap().as_str()).to_vec();
        assert_eq!(names, ["general", "email", "chat", "document", "code"]);
        assert!(core_context(5).is_err());
        assert!(core_context(u32::MAX).is_err());
    }
}
