//! 收作业:全班的提交放在一个目录里,每个学员一份,可以是文件夹、`.zip` 或 `.tar.gz`,
//! 以学员命名(`alice/`、`bob.zip`、`carol.tar.gz`)。
//!
//! 每一份都先整理成一个普通的目录再评分:只要普通文件(符号链接、设备文件一律不要),
//! 路径不能跑出目录(没有 `..`、没有绝对路径),文件的个数、单个大小、总大小都有上限。
//! 压缩包里多套一层文件夹(`alice.zip` 里是 `alice/lessons/…`)也行。

use std::fs;
use std::hash::{Hash as _, Hasher as _};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// 一份提交里最多这么多个文件。
const MAX_FILES: usize = 5_000;
/// 单个文件最大 4 MiB。
const MAX_FILE: u64 = 4 << 20;
/// 一份提交解开以后最多 64 MiB。
const MAX_TOTAL: u64 = 64 << 20;
/// 压缩包本身(以及 .tar.gz 解压后的整个 tar 流)最大 512 MiB。
const MAX_ARCHIVE: u64 = 512 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Folder,
    Zip,
    TarGz,
    /// 认不出来的文件(比如 .rar)。
    Unknown,
}

/// 班级目录里的一份提交。
#[derive(Clone, Debug)]
pub(super) struct Entry {
    /// 学员的名字:文件夹名,或去掉 `.zip`、`.tar.gz`、`.tgz` 的文件名。
    pub name: String,
    pub path: PathBuf,
    pub kind: Kind,
}

/// 班级目录里的全部提交,按名字排好。以 `.` 开头的(`.DS_Store`)不算。
pub(super) fn list(class: &Path) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(class).with_context(|| format!("读不到 {}", class.display()))? {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let (name, kind) = if kind.is_dir() {
            (file.clone(), Kind::Folder)
        } else if let Some(name) = file.strip_suffix(".zip") {
            (name.to_owned(), Kind::Zip)
        } else if let Some(name) = file
            .strip_suffix(".tar.gz")
            .or_else(|| file.strip_suffix(".tgz"))
        {
            (name.to_owned(), Kind::TarGz)
        } else {
            (file.clone(), Kind::Unknown)
        };
        entries.push(Entry {
            name,
            path: entry.path(),
            kind,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let twice = named_twice(entries.iter().map(|e| e.name.as_str()));
    if !twice.is_empty() {
        bail!(
            "这些学员交了不止一份(比如既有文件夹又有 .zip):{};每人只留一份再评",
            twice.join("、")
        );
    }
    Ok(entries)
}

/// 出现了不止一次的学员名字,按名字排序,每个只列一次(交了两份的学员、在两份报告里的学员)。
pub(super) fn named_twice<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::BTreeMap::new();
    for name in names {
        *seen.entry(name).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|&(_, times)| times > 1)
        .map(|(name, _)| name)
        .collect()
}

/// 把一份提交整理到 `dest`,返回其中有 `lessons/` 的那个目录。
/// 出错时返回给老师看的原因(这份提交就记为「压缩包读不了」)。
pub(super) fn unpack(entry: &Entry, dest: &Path) -> Result<PathBuf, String> {
    let mut budget = Budget::default();
    let result = match entry.kind {
        Kind::Folder => copy_folder(&entry.path, dest, Path::new(""), &mut budget),
        Kind::Zip => unzip(&entry.path, dest, &mut budget),
        Kind::TarGz => untar(&entry.path, dest, &mut budget),
        Kind::Unknown => Err(anyhow::anyhow!(
            "不认识的文件格式:只收文件夹、.zip 和 .tar.gz"
        )),
    };
    result.map_err(|err| format!("{err:#}"))?;
    find_root(dest, 3).ok_or_else(|| "里面找不到 lessons/ 目录:它不像是这门课的仓库".to_owned())
}

/// 数着文件的个数和大小。
#[derive(Default)]
struct Budget {
    files: usize,
    bytes: u64,
}

impl Budget {
    fn take(&mut self, size: u64, name: &str) -> Result<()> {
        self.files += 1;
        self.bytes += size;
        if size > MAX_FILE {
            bail!("{name} 太大({size} 字节,上限 {MAX_FILE})");
        }
        if self.files > MAX_FILES {
            bail!("文件太多(上限 {MAX_FILES} 个)");
        }
        if self.bytes > MAX_TOTAL {
            bail!("解开以后太大(上限 {} MiB)", MAX_TOTAL >> 20);
        }
        Ok(())
    }
}

/// 评分用不到、又可能很大的目录。
fn skipped(name: &str) -> bool {
    matches!(name, "target" | ".git" | "node_modules" | "__MACOSX")
}

/// 把压缩包里的路径变成 `dest` 下的一个安全路径;跑出去的、要跳过的返回 None。
fn safe_path(dest: &Path, name: &str) -> Option<PathBuf> {
    let mut out = dest.to_path_buf();
    let mut depth = 0;
    for part in Path::new(name).components() {
        match part {
            Component::Normal(part) => {
                if skipped(&part.to_string_lossy()) {
                    return None;
                }
                out.push(part);
                depth += 1;
            }
            Component::CurDir => {}
            // `..`、绝对路径、Windows 的盘符:一律不要。
            _ => return None,
        }
    }
    (depth > 0).then_some(out)
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, data).with_context(|| format!("无法写入 {}", path.display()))
}

fn copy_folder(from: &Path, dest: &Path, rel: &Path, budget: &mut Budget) -> Result<()> {
    for entry in fs::read_dir(from.join(rel))? {
        let entry = entry?;
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        // file_type 不跟随符号链接:链接既不是目录也不是文件,就被跳过了。
        let kind = entry.file_type()?;
        let rel = rel.join(&name);
        if kind.is_dir() {
            fs::create_dir_all(dest.join(&rel))?;
            copy_folder(from, dest, &rel, budget)?;
        } else if kind.is_file() {
            let size = entry.metadata()?.len();
            budget.take(size, &rel.to_string_lossy())?;
            let mut data = Vec::new();
            fs::File::open(entry.path())?
                .take(MAX_FILE + 1)
                .read_to_end(&mut data)?;
            write_file(&dest.join(&rel), &data)?;
        }
    }
    Ok(())
}

fn unzip(archive: &Path, dest: &Path, budget: &mut Budget) -> Result<()> {
    let size = fs::metadata(archive)?.len();
    if size > MAX_ARCHIVE {
        bail!("压缩包太大({} MiB)", size >> 20);
    }
    let bytes = fs::read(archive)?;
    for file in super::zip::files(&bytes, MAX_FILE)? {
        if let Some(path) = safe_path(dest, &file.name) {
            if file.is_dir {
                fs::create_dir_all(&path)?;
                continue;
            }
            budget.take(file.data.len() as u64, &file.name)?;
            write_file(&path, &file.data)?;
        }
    }
    Ok(())
}

fn untar(archive: &Path, dest: &Path, budget: &mut Budget) -> Result<()> {
    let file = fs::File::open(archive)?;
    // 解压后的整个 tar 流也有上限:一个压缩得很小、解开却有几个 GB 的「炸弹」在这里停下。
    let stream = flate2::read::GzDecoder::new(file).take(MAX_ARCHIVE);
    let mut tar = tar::Archive::new(stream);
    for entry in tar.entries().context("不是 .tar.gz 文件")? {
        let mut entry = entry.context("tar 文件坏了")?;
        let kind = entry.header().entry_type();
        let name = entry.path()?.to_string_lossy().into_owned();
        let Some(path) = safe_path(dest, &name) else {
            continue;
        };
        if kind == tar::EntryType::Directory {
            // 空目录也要:什么都没写的提交,压缩包里只有一个空的 lessons/。
            fs::create_dir_all(&path)?;
            continue;
        }
        if kind != tar::EntryType::Regular {
            continue;
        }
        budget.take(entry.size(), &name)?;
        let mut data = Vec::new();
        (&mut entry).take(MAX_FILE + 1).read_to_end(&mut data)?;
        write_file(&path, &data)?;
    }
    Ok(())
}

/// 有 `lessons/` 的那一层:就是 `dir`,或者 `dir` 里唯一的一个文件夹(最多往下找 `depth` 层)。
fn find_root(dir: &Path, depth: usize) -> Option<PathBuf> {
    if dir.join("lessons").is_dir() {
        return Some(dir.to_path_buf());
    }
    if depth == 0 {
        return None;
    }
    let children: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    match children.as_slice() {
        [only] if only.is_dir() => find_root(only, depth - 1),
        _ => None,
    }
}

/// 一份整理好的提交的内容指纹:所有文件的相对路径和内容。内容一样,指纹就一样。
pub(super) fn fingerprint(root: &Path) -> Result<u64> {
    let mut files = Vec::new();
    collect(root, Path::new(""), &mut files)?;
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for rel in files {
        rel.hash(&mut hasher);
        fs::read(root.join(&rel))?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

fn collect(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect(root, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::TempDir;

    /// 三份同名的提交只报一次名字;只出现一次的不报;顺序和输入无关。
    #[test]
    fn a_name_given_three_times_is_reported_once() {
        let names = ["bob", "alice", "bob", "carol", "bob", "alice"];
        assert_eq!(named_twice(names), ["alice", "bob"]);
        assert!(named_twice(["alice", "bob"]).is_empty());
    }

    /// 同一个学员既交了文件夹又交了 .zip、.tar.gz:不猜用哪一份,说出名字(只说一次)。
    #[test]
    fn a_student_with_a_folder_and_archives_is_named_once() {
        let tmp = TempDir::new("intake-test").unwrap();
        fs::create_dir(tmp.0.join("bob")).unwrap();
        fs::write(tmp.0.join("bob.zip"), b"").unwrap();
        fs::write(tmp.0.join("bob.tar.gz"), b"").unwrap();
        fs::create_dir(tmp.0.join("alice")).unwrap();
        let err = list(&tmp.0).unwrap_err().to_string();
        assert!(err.contains("交了不止一份"), "{err}");
        assert!(err.contains("):bob;"), "{err}");
        assert!(!err.contains("alice"), "{err}");
    }

    fn entry(path: &Path, kind: Kind) -> Entry {
        Entry {
            name: "x".into(),
            path: path.to_owned(),
            kind,
        }
    }

    #[test]
    fn a_zip_with_a_nested_folder_is_found_and_escaping_paths_are_dropped() {
        let tmp = TempDir::new("intake-test").unwrap();
        let zip = super::super::zip::tests::write(&[
            ("alice/lessons/01-udp-server/src/main.rs", b"fn main() {}"),
            ("alice/../../escaped.txt", b"no"),
            ("/etc/evil", b"no"),
            ("alice/target/debug/big", b"no"),
        ]);
        let archive = tmp.0.join("alice.zip");
        fs::write(&archive, zip).unwrap();
        let dest = tmp.0.join("out");
        let root = unpack(&entry(&archive, Kind::Zip), &dest).unwrap();
        assert_eq!(root, dest.join("alice"));
        assert!(root.join("lessons/01-udp-server/src/main.rs").is_file());
        assert!(!tmp.0.join("escaped.txt").exists());
        assert!(!root.join("target").exists());
    }

    #[test]
    fn a_tar_gz_is_unpacked_and_garbage_is_reported_not_panicked() {
        let tmp = TempDir::new("intake-test").unwrap();
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let data = "fn main() { println!(\"你好\"); }".as_bytes();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "lessons/02-udp-client/src/main.rs", data)
            .unwrap();
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        let archive = tmp.0.join("bob.tar.gz");
        fs::write(&archive, bytes).unwrap();
        let root = unpack(&entry(&archive, Kind::TarGz), &tmp.0.join("out")).unwrap();
        assert_eq!(
            fs::read(root.join("lessons/02-udp-client/src/main.rs")).unwrap(),
            data
        );

        let bad = tmp.0.join("bad.tar.gz");
        fs::write(&bad, b"definitely not gzip").unwrap();
        assert!(unpack(&entry(&bad, Kind::TarGz), &tmp.0.join("bad")).is_err());
        let bad = tmp.0.join("bad.zip");
        fs::write(&bad, b"PK nope").unwrap();
        assert!(unpack(&entry(&bad, Kind::Zip), &tmp.0.join("bad2")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_in_a_folder_submission_are_not_followed() {
        let tmp = TempDir::new("intake-test").unwrap();
        let secret = tmp.0.join("secret");
        fs::write(&secret, "老师的私钥").unwrap();
        let sub = tmp.0.join("carol/lessons/01-udp-server/src");
        fs::create_dir_all(&sub).unwrap();
        std::os::unix::fs::symlink(&secret, sub.join("main.rs")).unwrap();
        let root = unpack(
            &entry(&tmp.0.join("carol"), Kind::Folder),
            &tmp.0.join("out"),
        )
        .unwrap();
        assert!(!root.join("lessons/01-udp-server/src/main.rs").exists());
    }

    #[test]
    fn the_same_content_has_the_same_fingerprint() {
        let tmp = TempDir::new("intake-test").unwrap();
        for side in ["a", "b"] {
            fs::create_dir_all(tmp.0.join(side).join("lessons/x")).unwrap();
            fs::write(tmp.0.join(side).join("lessons/x/f"), "1").unwrap();
        }
        let a = fingerprint(&tmp.0.join("a")).unwrap();
        assert_eq!(a, fingerprint(&tmp.0.join("b")).unwrap());
        fs::write(tmp.0.join("b/lessons/x/f"), "2").unwrap();
        assert_ne!(a, fingerprint(&tmp.0.join("b")).unwrap());
    }
}
