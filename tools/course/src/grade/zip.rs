//! 读 .zip:只读学员提交要用到的那一点(存储和 deflate 两种压缩,不支持 zip64 和加密)。
//!
//! 压缩包来自学员,不可信:每个长度、偏移都检查过才用,解压出来的大小有上限
//! (压缩炸弹在上限处就停下),符号链接一律跳过。

use std::io::Read as _;

use anyhow::{Context, Result, bail};

/// 压缩包里的一个普通文件,或者一个目录(`is_dir`,没有内容)。
pub(super) struct File {
    pub name: String,
    pub is_dir: bool,
    pub data: Vec<u8>,
}

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// 读出压缩包里所有的普通文件和目录;单个文件解压后超过 `max_file` 字节就报错。
pub(super) fn files(bytes: &[u8], max_file: u64) -> Result<Vec<File>> {
    let end = find_end(bytes).context("不是 zip 文件(找不到中央目录)")?;
    let count = u16_at(bytes, end + 10)? as usize;
    let offset = u32_at(bytes, end + 16)? as usize;
    if count == 0xFFFF || offset == 0xFFFF_FFFF {
        bail!("不支持 zip64 格式");
    }
    let mut files = Vec::new();
    let mut at = offset;
    for _ in 0..count {
        if u32_at(bytes, at)? != DIRECTORY_ENTRY {
            bail!("zip 的中央目录坏了");
        }
        let made_by_unix = u16_at(bytes, at + 4)? >> 8 == 3;
        let flags = u16_at(bytes, at + 8)?;
        let method = u16_at(bytes, at + 10)?;
        let packed = u32_at(bytes, at + 20)? as usize;
        let size = u64::from(u32_at(bytes, at + 24)?);
        let name_len = u16_at(bytes, at + 28)? as usize;
        let extra_len = u16_at(bytes, at + 30)? as usize;
        let comment_len = u16_at(bytes, at + 32)? as usize;
        let mode = u32_at(bytes, at + 38)? >> 16;
        let local = u32_at(bytes, at + 42)? as usize;
        let name = slice(bytes, at + 46, name_len)?;
        let name = String::from_utf8_lossy(name).replace('\\', "/");
        at = at + 46 + name_len + extra_len + comment_len;

        let is_dir = name.ends_with('/');
        let is_link = made_by_unix && mode & 0o170_000 == 0o120_000;
        if is_link {
            continue;
        }
        if is_dir {
            // 空目录也要:什么都没写的提交,压缩包里只有一个空的 lessons/。
            files.push(File {
                name,
                is_dir: true,
                data: Vec::new(),
            });
            continue;
        }
        if flags & 1 != 0 {
            bail!("{name} 是加密的");
        }
        if size > max_file {
            bail!("{name} 太大({size} 字节)");
        }
        if u32_at(bytes, local)? != LOCAL_HEADER {
            bail!("zip 里 {name} 的位置不对");
        }
        let start =
            local + 30 + u16_at(bytes, local + 26)? as usize + u16_at(bytes, local + 28)? as usize;
        let packed = slice(bytes, start, packed)?;
        let data = match method {
            0 => packed.to_vec(),
            8 => {
                let mut data = Vec::new();
                flate2::read::DeflateDecoder::new(packed)
                    .take(max_file + 1)
                    .read_to_end(&mut data)
                    .with_context(|| format!("解压 {name} 失败"))?;
                if data.len() as u64 > max_file {
                    bail!("{name} 解压后太大");
                }
                data
            }
            other => bail!("{name} 用了不支持的压缩方法 {other}"),
        };
        files.push(File {
            name,
            is_dir: false,
            data,
        });
    }
    Ok(files)
}

/// 中央目录结尾记录的位置:从文件末尾往前找(后面最多跟 65535 字节的注释)。
fn find_end(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(22)?;
    let first = last.saturating_sub(0xFFFF);
    (first..=last)
        .rev()
        .find(|&at| u32_at(bytes, at).ok() == Some(END_OF_DIRECTORY))
}

fn slice(bytes: &[u8], at: usize, len: usize) -> Result<&[u8]> {
    at.checked_add(len)
        .and_then(|end| bytes.get(at..end))
        .context("zip 文件被截断了")
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16> {
    let b = slice(bytes, at, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32> {
    let b = slice(bytes, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// 写一个最简单的 zip(每个文件都不压缩),测试用。
    pub fn write(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut directory = Vec::new();
        for (name, data) in entries {
            let offset = out.len() as u32;
            let crc = 0u32; // 读的一方不校验 CRC
            let header = |sig: u32, central: bool| {
                let mut h = sig.to_le_bytes().to_vec();
                if central {
                    h.extend(0x031Eu16.to_le_bytes()); // made by: unix
                }
                h.extend(20u16.to_le_bytes()); // version needed
                h.extend(0u16.to_le_bytes()); // flags
                h.extend(0u16.to_le_bytes()); // stored
                h.extend(0u32.to_le_bytes()); // time, date
                h.extend(crc.to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend((data.len() as u32).to_le_bytes());
                h.extend((name.len() as u16).to_le_bytes());
                h.extend(0u16.to_le_bytes()); // extra
                if central {
                    h.extend(0u16.to_le_bytes()); // comment
                    h.extend(0u16.to_le_bytes()); // disk
                    h.extend(0u16.to_le_bytes()); // internal attrs
                    h.extend((0o100_644u32 << 16).to_le_bytes());
                    h.extend(offset.to_le_bytes());
                }
                h.extend(name.as_bytes());
                h
            };
            out.extend(header(LOCAL_HEADER, false));
            out.extend(*data);
            directory.extend(header(DIRECTORY_ENTRY, true));
        }
        let offset = out.len() as u32;
        out.extend(&directory);
        out.extend(END_OF_DIRECTORY.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((directory.len() as u32).to_le_bytes());
        out.extend(offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    #[test]
    fn stored_files_are_read_back() {
        let zip = write(&[("a/b.txt", "你好".as_bytes()), ("c", b"")]);
        let files = files(&zip, 100).unwrap();
        assert_eq!(files.len(), 2);
        assert!(!files[0].is_dir);
        assert_eq!(files[0].name, "a/b.txt");
        assert_eq!(files[0].data, "你好".as_bytes());
    }

    #[test]
    fn garbage_and_truncated_archives_are_errors_not_panics() {
        assert!(files(b"not a zip at all", 100).is_err());
        let zip = write(&[("a", b"12345")]);
        for cut in 0..zip.len() {
            let _ = files(&zip[..cut], 100);
        }
        assert!(files(&zip, 2).is_err(), "超过上限的文件要报错");
    }
}
