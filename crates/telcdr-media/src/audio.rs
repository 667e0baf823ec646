//! A sniff test for uploaded audio: do the bytes start like the format the
//! file name claims?
//!
//! This is not a decoder. It catches the mistakes that happen in practice (a
//! text or HTML error page saved as `.mp3`, a truncated upload, a WAV header
//! written by a broken tool) before the file is stored and served as audio.

/// Checks that `bytes` look like audio of the kind `ext` (a file extension,
/// with or without the dot, any case) says.
///
/// - `wav`: `RIFF....WAVE` with a complete `fmt ` chunk of a sane format;
/// - `mp3`: an ID3v2 tag followed by an MPEG audio frame, or a frame at once
///   (sync bits, and a valid version, layer, bitrate and sample rate);
/// - `ogg`: an `OggS` page; `m4a`: an ISO-BMFF `ftyp` box.
///
/// `Err` carries a reason for a person, e.g. "not a WAV file: it does not
/// start with RIFF...WAVE".
pub fn check_audio(ext: &str, bytes: &[u8]) -> Result<(), String> {
    let ext = ext.strip_prefix('.').unwrap_or(ext).to_ascii_lowercase();
    let (kind, result) = match ext.as_str() {
        "wav" => ("a WAV", check_wav(bytes)),
        "mp3" => ("an MP3", check_mp3(bytes)),
        "ogg" => ("an Ogg", magic(bytes, 0, b"OggS", "an OggS page")),
        "m4a" => ("an M4A", magic(bytes, 4, b"ftyp", "an ftyp box")),
        _ => {
            return Err(format!(
                "{ext:?} is not an audio type telcdr stores (wav, mp3, ogg, m4a)"
            ));
        }
    };
    if bytes.is_empty() {
        return Err(format!("not {kind} file: it is empty"));
    }
    result.map_err(|why| format!("not {kind} file: {why}"))
}

fn magic(bytes: &[u8], at: usize, want: &[u8], what: &str) -> Result<(), String> {
    if bytes.get(at..at + want.len()) == Some(want) {
        Ok(())
    } else {
        Err(format!("it does not start with {what}"))
    }
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// RIFF chunks after the 12-byte header, until the `fmt ` chunk.
fn check_wav(b: &[u8]) -> Result<(), String> {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err("it does not start with RIFF...WAVE".into());
    }
    let mut at = 12_usize;
    loop {
        let (Some(id), Some(size)) = (b.get(at..at + 4), u32_le(b, at + 4)) else {
            return Err("it ends before a fmt chunk".into());
        };
        let body = at + 8;
        let size = size as usize;
        if id == b"fmt " {
            if size < 16 {
                return Err(format!("its fmt chunk is {size} bytes, less than 16"));
            }
            let (Some(format), Some(channels), Some(rate)) =
                (u16_le(b, body), u16_le(b, body + 2), u32_le(b, body + 4))
            else {
                return Err("it ends inside the fmt chunk".into());
            };
            if b.len() < body + size {
                return Err("it ends inside the fmt chunk".into());
            }
            if format == 0 || channels == 0 || rate == 0 {
                return Err(format!(
                    "its fmt chunk says format {format}, {channels} channels, {rate} Hz"
                ));
            }
            return Ok(());
        }
        // Chunks are padded to an even length.
        at = body.saturating_add(size).saturating_add(size & 1);
    }
}

fn check_mp3(b: &[u8]) -> Result<(), String> {
    let mut at = 0;
    if b.starts_with(b"ID3") {
        let Some(h) = b.get(0..10) else {
            return Err("it ends inside its ID3v2 header".into());
        };
        let (major, flags, size) = (h[3], h[5], &h[6..10]);
        if !(2..=4).contains(&major) || h[4] == 0xFF || size.iter().any(|&x| x >= 0x80) {
            return Err("its ID3v2 header is malformed".into());
        }
        // The tag size is "syncsafe": 7 bits per byte.
        let size = size.iter().fold(0_usize, |n, &x| (n << 7) | usize::from(x));
        let footer = if flags & 0x10 != 0 { 10 } else { 0 };
        at = 10 + size + footer;
        if at >= b.len() {
            return Err("it holds an ID3v2 tag but no audio after it".into());
        }
    }
    check_frame_header(b.get(at..at + 4)).map_err(|why| {
        if at == 0 {
            format!("it does not start with an ID3v2 tag or an MPEG audio frame ({why})")
        } else {
            format!("no MPEG audio frame after its ID3v2 tag ({why})")
        }
    })
}

/// The 4-byte MPEG audio frame header: 11 sync bits, then version, layer,
/// bitrate and sample-rate fields that must not hold their reserved values.
fn check_frame_header(h: Option<&[u8]>) -> Result<(), &'static str> {
    let Some(&[b0, b1, b2, _]) = h else {
        return Err("too short for a frame header");
    };
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
        return Err("no frame sync");
    }
    if (b1 >> 3) & 0b11 == 0b01 {
        return Err("reserved MPEG version");
    }
    if (b1 >> 1) & 0b11 == 0b00 {
        return Err("reserved layer");
    }
    match b2 >> 4 {
        0b0000 => return Err("free-format bitrate"),
        0b1111 => return Err("invalid bitrate"),
        _ => {}
    }
    if (b2 >> 2) & 0b11 == 0b11 {
        return Err("reserved sample rate");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real minimal WAV: 8 kHz mono 16-bit PCM, `samples` samples of silence.
    fn wav(samples: u32) -> Vec<u8> {
        let data_len = samples * 2;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVE");
        b.extend_from_slice(b"fmt ");
        b.extend_from_slice(&16_u32.to_le_bytes());
        b.extend_from_slice(&1_u16.to_le_bytes()); // PCM
        b.extend_from_slice(&1_u16.to_le_bytes()); // mono
        b.extend_from_slice(&8_000_u32.to_le_bytes()); // sample rate
        b.extend_from_slice(&16_000_u32.to_le_bytes()); // byte rate
        b.extend_from_slice(&2_u16.to_le_bytes()); // block align
        b.extend_from_slice(&16_u16.to_le_bytes()); // bits per sample
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        b.resize(b.len() + data_len as usize, 0);
        b
    }

    /// One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
    fn mp3_frame() -> Vec<u8> {
        let mut f = vec![0xFF, 0xFB, 0x90, 0x64];
        f.resize(417, 0);
        f
    }

    fn id3(body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut b = b"ID3\x04\x00\x00".to_vec();
        b.extend([
            (n >> 21) as u8 & 0x7F,
            (n >> 14) as u8 & 0x7F,
            (n >> 7) as u8 & 0x7F,
            n as u8 & 0x7F,
        ]);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn accepts_real_wav() {
        assert_eq!(check_audio("wav", &wav(800)), Ok(()));
        assert_eq!(check_audio(".WAV", &wav(0)), Ok(()));
    }

    #[test]
    fn accepts_wav_with_a_chunk_before_fmt() {
        let w = wav(10);
        let mut b = w[..12].to_vec();
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&3_u32.to_le_bytes());
        b.extend_from_slice(b"abc\0"); // odd size, padded
        b.extend_from_slice(&w[12..]);
        assert_eq!(check_audio("wav", &b), Ok(()));
    }

    #[test]
    fn refuses_broken_wav() {
        let w = wav(100);
        let err = check_audio("wav", b"hello, this is text").unwrap_err();
        assert_eq!(err, "not a WAV file: it does not start with RIFF...WAVE");
        // WAVE missing from the header.
        let mut no_wave = w.clone();
        no_wave[8..12].copy_from_slice(b"AVI ");
        assert!(
            check_audio("wav", &no_wave)
                .unwrap_err()
                .contains("RIFF...WAVE")
        );
        // Truncated RIFF: the header, then the end.
        for cut in [4, 11, 12, 16, 20, 30] {
            let err = check_audio("wav", &w[..cut]).expect_err(&cut.to_string());
            assert!(err.starts_with("not a WAV file: "), "{err}");
        }
        // A fmt chunk that says zero channels.
        let mut zero = w.clone();
        zero[22..24].copy_from_slice(&0_u16.to_le_bytes());
        assert!(
            check_audio("wav", &zero)
                .unwrap_err()
                .contains("0 channels")
        );
        // A chunk size that points past the end (and would overflow on 32-bit).
        let mut huge = w[..12].to_vec();
        huge.extend_from_slice(b"junk");
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(check_audio("wav", &huge).is_err());
        assert_eq!(
            check_audio("wav", b""),
            Err("not a WAV file: it is empty".into())
        );
    }

    #[test]
    fn accepts_real_mp3() {
        let mut two = mp3_frame();
        two.extend(mp3_frame());
        assert_eq!(check_audio("mp3", &two), Ok(()));
        let mut tagged = id3(b"TIT2\0\0\0\x03\0\0ab");
        tagged.extend(mp3_frame());
        assert_eq!(check_audio("MP3", &tagged), Ok(()));
        // MPEG-2 Layer III, 8 kbit/s 16 kHz mono: telephone-grade.
        assert_eq!(check_audio("mp3", &[0xFF, 0xF3, 0x18, 0xC4, 0, 0]), Ok(()));
    }

    #[test]
    fn refuses_broken_mp3() {
        let err = check_audio("mp3", b"<html>404 Not Found</html>").unwrap_err();
        assert!(err.starts_with("not an MP3 file: "), "{err}");
        assert!(
            err.contains("does not start with an ID3v2 tag or an MPEG audio frame"),
            "{err}"
        );
        // A text file with a stray 0xFF first byte is still not a frame.
        assert!(check_audio("mp3", &[0xFF, 0x00, 0x90, 0x64]).is_err());
        // Reserved layer, bad bitrate, reserved sample rate, reserved version.
        for h in [
            [0xFF, 0xF9, 0x90, 0x64],
            [0xFF, 0xFB, 0xF0, 0x64],
            [0xFF, 0xFB, 0x9C, 0x64],
            [0xFF, 0xEB, 0x90, 0x64],
        ] {
            assert!(check_audio("mp3", &h).is_err(), "{h:x?}");
        }
        // An ID3 tag with nothing after it, or text after it.
        assert!(
            check_audio("mp3", &id3(b"abc"))
                .unwrap_err()
                .contains("no audio")
        );
        let mut text = id3(b"abc");
        text.extend_from_slice(b"plain text");
        assert!(
            check_audio("mp3", &text)
                .unwrap_err()
                .contains("after its ID3v2 tag")
        );
        // Truncated headers.
        assert!(check_audio("mp3", b"ID3\x04").is_err());
        assert!(check_audio("mp3", &[0xFF, 0xFB]).is_err());
        // An ID3 size that is not syncsafe.
        assert!(check_audio("mp3", b"ID3\x04\x00\x00\x80\x00\x00\x00").is_err());
        assert!(check_audio("mp3", b"").is_err());
    }

    #[test]
    fn other_types() {
        assert_eq!(check_audio("ogg", b"OggS\0\x02rest"), Ok(()));
        assert!(check_audio("ogg", b"RIFF").is_err());
        assert_eq!(check_audio("m4a", b"\0\0\0\x20ftypM4A "), Ok(()));
        assert!(check_audio("m4a", &wav(1)).is_err());
        assert!(
            check_audio("json", b"[]")
                .unwrap_err()
                .contains("not an audio type")
        );
        assert!(check_audio("", b"x").is_err());
        // A WAV under an mp3 name is refused, and the other way round.
        assert!(check_audio("mp3", &wav(10)).is_err());
        assert!(check_audio("wav", &mp3_frame()).is_err());
    }
}
