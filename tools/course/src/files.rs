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

/// 编译课程用得到的东西:工作区的清单和锁文件、工作区的成员(`lessons/`、`solutions/`、
/// `tests/`、`tools/`),以及 cargo 和工具链的配置(有的话)。
///
/// 学员的代码就在这份副本里编译,副本里的一切它都读得到(`include_str!("../../../…")`),
/// 所以只复制编译要用的,别的一概不要:书、CI 脚本,尤其是老师放在仓库里的全班提交和
/// 以前的成绩册。
pub const COURSE_PARTS: [&str; 9] = [
    "Cargo.toml",
    "Cargo.lock",
    "lessons",
    "solutions",
    "tests",
    "tools",
    ".cargo",
    "rust-toolchain",
    "rust-toolchain.toml",
];

/// 复制课程仓库里编译要用的部分([`COURSE_PARTS`]),不要编译产物(`target/`),
/// 也不要 `except` 里的目录(全班的提交、评分的输出:老师可能把它们放在仓库里的任何地方)。
pub fn copy_course(from: &Path, to: &Path, except: &[PathBuf]) -> Result<()> {
    let except: Vec<PathBuf> = except
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    fs::create_dir_all(to)?;
    for part in COURSE_PARTS {
        let path = from.join(part);
        if path.is_dir() {
            copy_tree(&path, &to.join(part), &except)?;
        } else if path.is_file() {
            fs::copy(&path, to.join(part))
                .with_context(|| format!("无法复制 {}", path.display()))?;
        }
    }
    Ok(())
}

/// 把 [`copy_course`] 会复制的一切(相对路径和内容,按固定的顺序)喂给 `hasher`:
/// 评分的缓存用它,原版的骨架、评分器、参考答案里任何一个文件变了,缓存的结果就不再算数
/// (没交的课是按原版骨架评的)。
pub fn hash_course(
    from: &Path,
    except: &[PathBuf],
    hasher: &mut impl std::hash::Hasher,
) -> Result<()> {
    use std::hash::Hash as _;
    let except: Vec<PathBuf> = except
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut pending: Vec<PathBuf> = COURSE_PARTS.iter().map(|part| from.join(part)).collect();
    pending.reverse();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target")
                || path.canonicalize().is_ok_and(|p| except.contains(&p))
            {
                continue;
            }
            let mut entries: Vec<PathBuf> = fs::read_dir(&path)
                .with_context(|| format!("读不到 {}", path.display()))?
                .map(|entry| entry.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            entries.sort();
            entries.reverse();
            pending.extend(entries);
        } else if path.is_file() && !path.is_symlink() {
            path.strip_prefix(from).unwrap_or(&path).hash(hasher);
            fs::read(&path)
                .with_context(|| format!("读不到 {}", path.display()))?
                .hash(hasher);
        }
    }
    Ok(())
}

/// 复制一个目录(不要其中的 `target/`)。
///
/// 符号链接一律跳过:学员交来的目录里,`src/main.rs -> ~/.ssh/id_rsa` 这样的链接
/// 会让复制把老师的文件带进提交,编译错误再把它的内容打印出来。
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    copy_tree(from, to, &[])
}

/// [`copy_dir`],另外跳过 `except` 里的目录(已经是 canonicalize 过的路径)。
fn copy_tree(from: &Path, to: &Path, except: &[PathBuf]) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("读不到 {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() == "target"
                || (!except.is_empty() && path.canonicalize().is_ok_and(|p| except.contains(&p)))
            {
                continue;
            }
            copy_tree(&path, &dest, except)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                found.extend(
                    files_under(&path)
                        .into_iter()
                        .map(|f| format!("{name}/{f}")),
                );
            } else {
                found.push(name);
            }
        }
        found.sort();
        found
    }

    /// 缓存用的课程指纹:原版课程里任何一个会被复制的文件变了,它就变;
    /// 不复制的东西(书、编译产物、全班的提交)怎么变,它都不变。
    #[test]
    fn the_course_hash_follows_exactly_what_is_copied() {
        let repo = TempDir::new("hash").unwrap();
        let root = &repo.0;
        let write = |file: &str, text: &str| {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
        };
        let hash = || {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            hash_course(root, &[root.join("lessons/submissions")], &mut hasher).unwrap();
            std::hash::Hasher::finish(&hasher)
        };
        write("Cargo.toml", "[workspace]");
        write("lessons/01-udp-server/src/main.rs", "fn main() { todo!() }");
        write("solutions/01-udp-server/skeleton.txt", "骨架");
        let before = hash();
        assert_eq!(hash(), before, "同样的文件,同样的指纹");

        write("book/src/intro.md", "书");
        write("lessons/01-udp-server/target/debug/lesson-01", "编译产物");
        write("lessons/submissions/bob/src/main.rs", "全班的提交");
        assert_eq!(hash(), before, "不复制的东西不算");

        write("lessons/01-udp-server/src/main.rs", "fn main() {}");
        let skeleton_changed = hash();
        assert_ne!(skeleton_changed, before, "原版骨架变了");
        write("solutions/01-udp-server/skeleton.txt", "新骨架");
        assert_ne!(hash(), skeleton_changed, "骨架的模板变了");
    }

    /// 课程的副本里只有编译要用的部分:仓库根目录下别的东西(书、全班的提交、以前的成绩册)
    /// 不在里面;放在 lessons/、tools/ 里的全班提交和输出目录也不在里面。
    #[test]
    fn the_course_copy_has_only_what_the_build_needs() {
        let repo = TempDir::new("copy-from").unwrap();
        let root = &repo.0;
        for file in [
            "Cargo.toml",
            "Cargo.lock",
            "README.md",
            "book/src/intro.md",
            "submissions/bob/lessons/01-udp-server/src/main.rs",
            "grades/gradebook.csv",
            "lessons/01-udp-server/src/main.rs",
            "lessons/01-udp-server/target/debug/lesson-01",
            "lessons/submissions/carol.zip",
            "solutions/01-udp-server/src/main.rs",
            "tests/src/lib.rs",
            "tools/course/src/main.rs",
            "tools/grades/feedback/bob.txt",
        ] {
            let path = root.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, file).unwrap();
        }
        let copy = TempDir::new("copy-to").unwrap();
        copy_course(
            root,
            &copy.0,
            &[
                root.join("lessons/submissions"),
                root.join("tools/grades"),
                root.join("not-created-yet"),
            ],
        )
        .unwrap();
        assert_eq!(
            files_under(&copy.0),
            [
                "Cargo.lock",
                "Cargo.toml",
                "lessons/01-udp-server/src/main.rs",
                "solutions/01-udp-server/src/main.rs",
                "tests/src/lib.rs",
                "tools/course/src/main.rs",
            ]
        );
    }

    /// 工作区的每一个成员、每一个路径依赖都在副本要复制的目录里:加了别处的成员,
    /// 副本就编译不了。
    #[test]
    fn every_workspace_member_and_path_dependency_is_copied() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let members = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("members = ["))
            .expect("根目录的 Cargo.toml 里有 members");
        let mut paths: Vec<&str> = members.split('"').skip(1).step_by(2).collect();
        paths.extend(
            manifest
                .split("path = \"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next()),
        );
        assert!(paths.len() >= 4 && paths.contains(&"tests"), "{paths:?}");
        for path in paths {
            let top = path.split('/').next().unwrap();
            assert!(
                COURSE_PARTS.contains(&top),
                "{path} 不在 COURSE_PARTS 里:课程的副本里会少了它"
            );
        }
    }
}
