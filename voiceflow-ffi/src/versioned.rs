//! Size-versioned structs: the one place where a struct that C fills
//! (`VfEngineOptions`, `VfTranscribeOptions`, `VfStreamOptions`,
//! `VfStreamCallbacks`, `VfQuery`) is written by its `vf_*_default` function
//! and read back by the library.
//!
//! Each such struct starts with `size_t struct_size`: the `sizeof` of the
//! struct in the header the caller was compiled with. New fields are only
//! ever appended, so the fields of an older header are a prefix of the
//! library's struct. Two helpers do all the work, for every struct alike:
//!
//! - [`write_defaults`] (behind each `vf_*_default(out, struct_size)`)
//!   writes the first `struct_size` bytes of the library's defaults, with
//!   `struct_size` itself set to the caller's size, and never a byte more:
//!   an older caller's smaller struct is not overrun.
//! - [`read_versioned`] (wherever the library takes such a struct) reads
//!   `struct_size`, then copies only that many bytes over the library's
//!   defaults: fields the caller's header did not have keep their defaults.
//!
//! Both accept only the sizes the struct has had in a released header
//! ([`Versioned::SIZES`]); anything else (0, the garbage of an uninitialised
//! struct, a size cutting a field in two, a newer header than the library)
//! is `VF_ERROR_INVALID_ARGUMENT` naming the struct.

use crate::boundary::{FfiError, FfiResult};

/// A `#[repr(C)]` struct that C fills, versioned by its leading
/// `struct_size` field.
///
/// # Safety
/// Implementors promise, for [`read_versioned`] and [`write_defaults`]:
/// - the type is `#[repr(C)]` and its first field is `struct_size: usize`;
/// - every entry of `SIZES` is at least `size_of::<usize>()` and at most
///   `size_of::<Self>()`, the last one is `size_of::<Self>()`, and each is
///   the size of an earlier layout whose fields are exactly the leading
///   fields of `Self`, in order and with the same types (so the first
///   `SIZES[i]` bytes of a `Self` hold whole fields only);
/// - every field is valid for any bytes a C caller may legitimately store
///   in it (pointers, integers, floats, `Option` of function pointers), or
///   its valid values are part of the exported functions' contracts
///   (`bool`s are 0 or 1).
pub(crate) unsafe trait Versioned: Copy {
    /// The C name, for messages.
    const NAME: &'static str;
    /// The `sizeof` of every released layout, oldest first. When a field is
    /// appended, keep a private copy of the old struct and put its
    /// `size_of` in front of this list.
    const SIZES: &'static [usize];
    /// The library's defaults, with `struct_size` = `size_of::<Self>()`.
    fn defaults() -> Self;
}

/// `VF_ERROR_INVALID_ARGUMENT` unless `size` is a released size of `T`.
fn check_size<T: Versioned>(size: usize, name: &'static str) -> FfiResult {
    if T::SIZES.contains(&size) {
        return Ok(());
    }
    let known: Vec<String> = T::SIZES.iter().map(usize::to_string).collect();
    let hint = if size > size_of::<T>() {
        " (built against a newer voiceflow.h than this library?)"
    } else {
        ""
    };
    Err(FfiError::invalid(format!(
        "`{name}`: struct_size {size} is not the size of a {} (expected {}){hint}; \
         initialise it with its vf_*_default function",
        T::NAME,
        known.join(" or "),
    )))
}

/// Fills the caller's `T` at `pointer`, which is `struct_size` bytes long,
/// with the library's defaults: the first `struct_size` bytes of them, with
/// `struct_size` set to the caller's size. NULL is `VF_ERROR_NULL_POINTER`,
/// an unknown size `VF_ERROR_INVALID_ARGUMENT`; then nothing is written.
///
/// # Safety
/// `pointer` is NULL or aligned for `T` and valid for writes of
/// `struct_size` bytes (their old contents need not be initialised), which
/// nothing else accesses during the call.
pub(crate) unsafe fn write_defaults<T: Versioned>(
    pointer: *mut T,
    struct_size: usize,
    name: &'static str,
) -> FfiResult {
    if pointer.is_null() {
        return Err(FfiError::Null(name));
    }
    check_size::<T>(struct_size, name)?;
    let mut defaults = T::defaults();
    // SAFETY: `struct_size` is the first field (the `Versioned` contract), so
    // the pointer to `defaults` is an aligned, writable `usize`.
    unsafe {
        std::ptr::from_mut(&mut defaults)
            .cast::<usize>()
            .write(struct_size)
    };
    // SAFETY: the source is `defaults`, `size_of::<T>()` readable bytes, and
    // `struct_size` is at most that (`check_size`, `Versioned::SIZES`); the
    // destination is not NULL (checked above) and valid for `struct_size`
    // bytes of writes that overlap nothing else (our contract). The copy is
    // untyped, so padding bytes may be copied; the prefix holds whole fields.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::from_ref(&defaults).cast::<u8>(),
            pointer.cast::<u8>(),
            struct_size,
        );
    }
    Ok(())
}

/// The caller's `T` at `pointer` (None for NULL): the first `struct_size`
/// bytes of it over the library's defaults, so that fields newer than the
/// caller's header have their default values. An unknown `struct_size` is
/// `VF_ERROR_INVALID_ARGUMENT`. Nothing past `struct_size` is read.
///
/// # Safety
/// `pointer` is NULL or aligned for `T` and points to a `size_t` holding
/// the struct's size, followed by the rest of that many bytes of a `T`
/// whose fields in that prefix are initialised and valid (`bool`s 0 or 1),
/// none of it written during the call. A caller that set the size with the
/// `vf_*_default` function, or to `sizeof` the struct of any released
/// header, has a pointer valid for that many bytes.
pub(crate) unsafe fn read_versioned<T: Versioned>(
    pointer: *const T,
    name: &'static str,
) -> FfiResult<Option<T>> {
    if pointer.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL (checked above); aligned and starting with an
    // initialised `size_t` (our contract and the `Versioned` layout).
    let struct_size = unsafe { pointer.cast::<usize>().read() };
    check_size::<T>(struct_size, name)?;
    let mut value = T::defaults();
    // SAFETY: the source is readable for `struct_size` bytes (our contract)
    // and the destination, `value`, for `size_of::<T>()` >= `struct_size`
    // (`check_size`); they do not overlap. The prefix holds whole fields of
    // the same types as `T`'s (the `Versioned` contract) with valid values
    // (our contract), so `value` stays a valid `T`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            pointer.cast::<u8>(),
            std::ptr::from_mut(&mut value).cast::<u8>(),
            struct_size,
        );
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A struct as an older header had it.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct OldOptions {
        struct_size: usize,
        beam_size: usize,
    }

    /// The same struct with a field appended since.
    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Options {
        struct_size: usize,
        beam_size: usize,
        timeout_ms: u64,
        short_windows: bool,
    }

    // SAFETY: `repr(C)`, `struct_size` first; `OldOptions` is the prefix
    // layout of `Options`, and the sizes are theirs; every field but the
    // `bool` is valid for any bytes, and the tests store 0 or 1 in it.
    unsafe impl Versioned for Options {
        const NAME: &'static str = "Options";
        const SIZES: &'static [usize] = &[size_of::<OldOptions>(), size_of::<Options>()];
        fn defaults() -> Self {
            Options {
                struct_size: size_of::<Options>(),
                beam_size: 1,
                timeout_ms: 7,
                short_windows: true,
            }
        }
    }

    fn message(error: FfiError) -> String {
        match error {
            FfiError::Core(voiceflow_core::Error::InvalidArgument(message)) => message,
            other => panic!("not an invalid argument: {other:?}"),
        }
    }

    #[test]
    fn an_old_caller_gets_the_defaults_of_the_fields_it_does_not_know() {
        let mut old = OldOptions {
            struct_size: 0,
            beam_size: 0,
        };
        // SAFETY: `old` is aligned like `Options` (same first fields) and
        // writable for `size_of::<OldOptions>()` bytes, the size passed.
        let status = unsafe {
            write_defaults(
                std::ptr::from_mut(&mut old).cast::<Options>(),
                size_of::<OldOptions>(),
                "out",
            )
        };
        status.unwrap();
        assert_eq!(
            old,
            OldOptions {
                struct_size: size_of::<OldOptions>(),
                beam_size: 1
            }
        );
        old.beam_size = 5;
        // SAFETY: `old` holds its own size and is readable for that many
        // initialised bytes.
        let read = unsafe { read_versioned(std::ptr::from_ref(&old).cast::<Options>(), "o") };
        let read = read.unwrap().unwrap();
        assert_eq!(read.beam_size, 5);
        assert_eq!((read.timeout_ms, read.short_windows), (7, true));
        assert_eq!(read.struct_size, size_of::<OldOptions>());
    }

    #[test]
    fn a_current_caller_is_read_whole() {
        let mut options = Options::defaults();
        options.struct_size = 0;
        // SAFETY: `options` is a writable `Options`.
        unsafe { write_defaults(&mut options, size_of::<Options>(), "out") }.unwrap();
        assert_eq!(options, Options::defaults());
        options.timeout_ms = 9;
        options.short_windows = false;
        // SAFETY: `options` is an initialised `Options` holding its size.
        let read = unsafe { read_versioned(&options, "options") }.unwrap();
        assert_eq!(read, Some(options));
        // SAFETY: NULL is allowed and never read.
        let none = unsafe { read_versioned(std::ptr::null::<Options>(), "options") };
        assert_eq!(none.unwrap(), None);
    }

    #[test]
    fn unknown_sizes_are_rejected_naming_the_struct_and_nothing_is_written() {
        for size in [0, 1, size_of::<usize>(), size_of::<OldOptions>() + 4, 4096] {
            let mut options = Options::defaults();
            options.struct_size = size;
            options.beam_size = 3;
            // SAFETY: `options` is an initialised `Options`; the sizes past
            // `size_of::<Options>()` are rejected before anything is read.
            let error = unsafe { read_versioned(&options, "options") }.unwrap_err();
            let error = message(error);
            assert!(error.contains("`options`: struct_size"), "{error}");
            assert!(error.contains("Options"), "{error}");
            // SAFETY: `options` is a writable `Options`; a size it cannot
            // hold is rejected before anything is written.
            let error = unsafe { write_defaults(&mut options, size, "out") }.unwrap_err();
            assert!(message(error).contains("`out`: struct_size"));
            assert_eq!((options.struct_size, options.beam_size), (size, 3));
        }
        let error = check_size::<Options>(4096, "options").unwrap_err();
        assert!(message(error).contains("newer voiceflow.h"));
        // SAFETY: NULL is reported, never written.
        let null = unsafe { write_defaults(std::ptr::null_mut::<Options>(), 24, "out") };
        assert!(matches!(null, Err(FfiError::Null("out"))));
    }
}
