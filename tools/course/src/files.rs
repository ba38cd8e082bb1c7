//! 文件的小工具:用完就删的临时目录,以及复制课程仓库。

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// 一个临时目录,drop 时删掉。
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir(), label)
    }

    /// 在 `parent` 里建一个临时目录。
    pub fn new_in(parent: &Path, label: &str) -> Result<TempDir> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = parent.join(format!("course-{label}-{}-{stamp}", std::process::id()));
        fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// 复制课程仓库,不要编译产物、git 和学习进度这些东西。
pub fn copy_course(from: &Path, to: &Path) -> Result<()> {
    const SKIP: [&str; 5] = ["target", ".git", ".course", "node_modules", "book"];
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if SKIP.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}

/// 复制一个目录(不要其中的 `target/`)。
///
/// 符号链接一律跳过:学员交来的目录里,`src/main.rs -> ~/.ssh/id_rsa` 这样的链接
/// 会让复制把老师的文件带进提交,编译错误再把它的内容打印出来。
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("读不到 {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() == "target" {
                continue;
            }
            copy_dir(&path, &dest)?;
        } else if kind.is_file() {
            fs::copy(&path, &dest).with_context(|| format!("无法复制 {}", path.display()))?;
        }
    }
    Ok(())
}

/// 让 `to` 和 `from` 一样:只覆盖内容不同的文件,删掉多出来的。内容相同的文件不动,
/// 它的修改时间也就不变(cargo 靠修改时间判断要不要重新编译)。
pub fn sync_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    let mut seen = std::collections::BTreeSet::new();
    for entry in fs::read_dir(from).with_context(|| format!("读不到 {}", from.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        seen.insert(entry.file_name());
        if kind.is_dir() {
            sync_dir(&entry.path(), &dest)?;
        } else if kind.is_file() {
            let new = fs::read(entry.path())?;
            if fs::read(&dest).ok().as_ref() != Some(&new) {
                if dest.is_dir() {
                    fs::remove_dir_all(&dest)?;
                }
                fs::write(&dest, new)?;
            }
        }
    }
    for entry in fs::read_dir(to)?.flatten() {
        if !seen.contains(&entry.file_name()) {
            let path = entry.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else {
                fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}
