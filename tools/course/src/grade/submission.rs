//! 一份提交:在原版课程的副本里换上学员的 `src/`,在沙箱里逐课编译,再在沙箱里逐课评分;
//! 最后比较学员仓库里评分用到的文件和原版(改动报告)。
//!
//! 学员的仓库里只取每一课的 `lessons/NN-*/src/`。其余的一切(评分器、评分框架、各课的
//! `tests/grade.rs` 和 `Cargo.toml`、依赖的版本)都用本仓库的原版;评分器本身编译在 course
//! 程序里。所以改动 `tests/` 抬不高分数;改动过的评分文件会列在「改动报告」里。

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use wait_timeout::ChildExt as _;

use super::inside::InsideArgs;
use super::limit::RUN_LIMITS;
use super::report::stable;
use super::sandbox::{Paths, Sandbox};
use super::{CheckGrade, LessonGrade, Points, SubmissionGrade, Tampered};
use crate::files::{copy_course, copy_dir};
use crate::repo::{LessonDirs, Repo, cargo};

/// 一课最多编译多久(墙上时间;`COURSE_TIMEOUT_SCALE` 会放大它)。
const BUILD_TIME: Duration = Duration::from_secs(300);
/// 一份提交的全部评分最多多久。
const RUN_TIME: Duration = Duration::from_secs(900);

/// 给提交评分要用的一切:原版课程、沙箱、编译好的原版依赖、要评的课和分值。
pub(super) struct Grader<'a> {
    pub repo: &'a Repo,
    pub sandbox: &'a Sandbox,
    /// 原版依赖编译好的 target 目录(见 [`prepare_seed`])。
    pub seed: &'a Path,
    pub lessons: Vec<&'static harness::Lesson>,
    pub points: &'a Points,
    /// 老师机器上在回环上监听的端口(沙箱里放诱饵)。
    pub decoys: Vec<u16>,
    /// 不能进课程副本的目录:全班的提交、评分的输出(见 [`copy_course`])。
    pub private: &'a [PathBuf],
}

impl Grader<'_> {
    /// 给 `source`(学员的仓库,至少有 `lessons/`)评分。`scratch` 是这份提交自己的临时目录,
    /// `slot` 是并行评分的槽位号。
    pub fn grade(&self, source: &Path, scratch: &Path, slot: usize) -> Result<SubmissionGrade> {
        if !source.join("lessons").is_dir() {
            bail!(
                "{} 里没有 lessons/ 目录:它不像是这门课的仓库",
                source.display()
            );
        }
        let course = scratch.join("course");
        let target = scratch.join("target");
        let bin = scratch.join("bin");
        let work = scratch.join("run");
        fs::create_dir_all(&bin)?;
        fs::create_dir_all(&work)?;

        // 原版的一份副本,换上学员的 src/。
        copy_course(&self.repo.root, &course, self.private)?;
        let copy = Repo::at(&course);
        let mut missing = BTreeSet::new();
        for dirs in copy.lessons()? {
            let theirs = find_lesson(&source.join("lessons"), dirs.lesson.number);
            match theirs.map(|dir| dir.join("src")).filter(|src| src.is_dir()) {
                Some(src) => {
                    fs::remove_dir_all(dirs.exercise.join("src"))?;
                    copy_dir(&src, &dirs.exercise.join("src"))?;
                }
                None => {
                    // 没交这一课:评原样的骨架(从参考答案生成,不用本仓库里可能已经写好的练习)。
                    write_skeleton(&dirs)?;
                    missing.insert(dirs.lesson.number);
                }
            }
        }
        copy_seed(self.seed, &target)?;
        let paths = Paths {
            course: &course,
            target: &target,
            bin: &bin,
        };

        let mut grade = SubmissionGrade {
            sandbox: self.sandbox.mode(),
            ..SubmissionGrade::default()
        };
        let mut built = Vec::new();
        let mut compile_errors = BTreeMap::new();
        for lesson in &self.lessons {
            let package = format!("lesson-{}", lesson.number);
            let run = run_bounded(
                self.sandbox.build(&paths, &package),
                harness::grader::scaled(BUILD_TIME),
                None,
            )?;
            if run.timed_out {
                grade.timed_out = true;
                compile_errors.insert(lesson.number, "编译超时".to_owned());
                continue;
            }
            if !run.status.is_some_and(|s| s.success()) {
                let errors = stable(&run.stderr);
                let own = find_lesson(&course.join("lessons"), lesson.number);
                for path in outside_reads(&errors, &course, own.as_deref()) {
                    grade.events.insert(format!(
                        "编译时想读提交以外的文件 {path}(include_str! 之类),评分时读不到"
                    ));
                }
                let first: Vec<&str> = errors.lines().take(12).collect();
                compile_errors.insert(
                    lesson.number,
                    first.join(
                        "
",
                    ),
                );
                continue;
            }
            let exe = format!("{package}{}", std::env::consts::EXE_SUFFIX);
            fs::copy(target.join("debug").join(&exe), bin.join(&exe))
                .with_context(|| format!("编译成功了,却找不到 {exe}"))?;
            built.push(lesson.number);
        }

        let mut reports = BTreeMap::new();
        if !built.is_empty() {
            let nonce = nonce();
            let inside = InsideArgs {
                bin: bin.clone(),
                work: work.clone(),
                lessons: built.iter().map(|n| (*n).to_owned()).collect(),
                decoys: self.decoys.clone(),
                isolated: false,
                processes: RUN_LIMITS.processes,
                file_size: RUN_LIMITS.file_size,
                marker: nonce.clone(),
            };
            let command = self.sandbox.run(&paths, &inside, slot)?;
            let run = run_bounded(command, harness::grader::scaled(RUN_TIME), Some(&nonce))?;
            grade.timed_out |= run.timed_out;
            let mut finished = false;
            for line in run.stdout.lines() {
                let Some(json) = line.strip_prefix(&nonce).map(str::trim) else {
                    grade.events.insert(
                        "评分器的输出里混进了别人写的东西(想伪造成绩?),已经忽略".to_owned(),
                    );
                    continue;
                };
                let value: serde_json::Value =
                    serde_json::from_str(json).context("沙箱里的评分器输出了看不懂的 JSON")?;
                if let Some(events) = value.get("events").and_then(|e| e.as_array()) {
                    grade
                        .events
                        .extend(events.iter().filter_map(|e| e.as_str()).map(str::to_owned));
                    finished = true;
                } else if let Some(lesson) = value.get("lesson").and_then(|l| l.as_str()) {
                    reports.insert(lesson.to_owned(), value.clone());
                }
            }
            if !finished
                && (run.stderr.contains("failed to spawn") || run.stderr.contains("os error 11"))
            {
                // 评分器和学员的程序在同一个沙箱里,共用进程数上限:炸弹用光了名额,
                // 评分器自己也开不了线程。评不完的是这一份,别人不受影响。
                grade.events.insert(
                    "进程和线程数碰到了上限,连沙箱里的评分器都开不了线程(线程炸弹或 fork 炸弹),没评完的项记为没有通过"
                        .to_owned(),
                );
            } else if !finished && run.stderr.contains("memory allocation of") {
                // 评分器自己也在沙箱里、也有地址空间上限:程序的输出多到评分器收不下时,
                // 死的是这一份提交的评分,不是老师的机器,也不是别的学员。
                grade.events.insert(
                    "沙箱里的评分器碰到了内存上限:程序的输出太多(比如往 stdout 无休止地打印),没评完的项记为没有通过"
                        .to_owned(),
                );
            } else if !finished && !run.timed_out {
                let why = describe_status(run.status);
                let tail: Vec<&str> = run.stderr.lines().rev().take(6).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                grade.error = Some(format!(
                    "沙箱里的评分器没有正常结束({why}):{}",
                    tail.join(" / ")
                ));
            }
            for message in reports.values().flat_map(|r| messages(r)) {
                if message.contains("SIGXCPU") {
                    grade
                        .events
                        .insert("程序用完了 CPU 时间的上限,被系统结束".to_owned());
                }
                if message.contains("字节输出没有保存") {
                    grade.events.insert(
                        "程序的输出多得超过了评分器保留的上限,多出来的被丢掉了(比如往 stdout 无休止地打印)"
                            .to_owned(),
                    );
                }
                if message.contains("SIGXFSZ") || message.contains("File too large") {
                    grade.events.insert("程序写的文件碰到了大小上限".to_owned());
                }
            }
        }

        for lesson in &self.lessons {
            grade.lessons.push(self.lesson_grade(
                lesson,
                missing.contains(lesson.number),
                compile_errors.remove(lesson.number),
                reports.get(lesson.number),
            ));
        }
        if source != self.repo.root {
            grade.tampered = tamper_report(&self.repo.root, source)?;
        }
        Ok(grade)
    }

    fn lesson_grade(
        &self,
        lesson: &'static harness::Lesson,
        missing: bool,
        compile_error: Option<String>,
        report: Option<&serde_json::Value>,
    ) -> LessonGrade {
        let steps = report
            .and_then(|r| r.get("steps"))
            .and_then(|s| s.as_array());
        let checks = lesson
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let number = i + 1;
                let got = steps.and_then(|s| s.get(i));
                let text = |key: &str| {
                    got.and_then(|g| g.get(key))
                        .and_then(|v| v.as_str())
                        .map(stable)
                };
                let status = match got.and_then(|g| g.get("status")).and_then(|s| s.as_str()) {
                    Some("passed") => "passed",
                    Some("failed") => "failed",
                    Some("skipped") => "skipped",
                    _ => "not_run",
                };
                CheckGrade {
                    number,
                    name: step.name,
                    max: self.points.weight(lesson.number, number, step.points),
                    status,
                    headline: text("headline"),
                    message: text("message"),
                }
            })
            .collect();
        LessonGrade {
            number: lesson.number,
            title: format!("第 {} 课 · {}", lesson.display_number(), lesson.title),
            compile_error,
            missing,
            checks,
        }
    }
}

fn messages(report: &serde_json::Value) -> Vec<&str> {
    report
        .get("steps")
        .and_then(|s| s.as_array())
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| s.get("message").and_then(|m| m.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// 编译错误里「couldn't read `路径`」说的、在这一课自己的目录(`own`)以外的路径。
///
/// cargo 在课程副本(`course`)的根目录里运行 rustc,所以相对路径从那里算起,`..` 按字面
/// 折叠:`lessons/01-udp-server/src/../../../submissions/bob.zip` 是副本里的
/// `submissions/bob.zip`,想读的是别的学员的作业。副本里的路径写成相对于副本的样子
/// (副本在临时目录里,它的绝对路径对老师没有意义)。读不到这一课自己目录里的文件
/// (比如忘了交的数据文件)只是编译错误,不算。
fn outside_reads(errors: &str, course: &Path, own: Option<&Path>) -> Vec<String> {
    let mut found = Vec::new();
    for part in errors.split("couldn't read `").skip(1) {
        let Some((path, _)) = part.split_once('`') else {
            continue;
        };
        let full = fold_dots(&course.join(path));
        if own.is_some_and(|own| full.starts_with(own)) {
            continue;
        }
        let shown = match full.strip_prefix(course) {
            Ok(inside) => format!("课程仓库里的 {}", inside.display()),
            Err(_) => full.display().to_string(),
        };
        if !found.contains(&shown) {
            found.push(shown);
        }
    }
    found
}

/// 按字面去掉路径里的 `.` 和 `..`(不看文件系统:文件多半并不存在)。
fn fold_dots(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// 一个一次性的口令(不需要密码学强度:它只要求学员的程序事先猜不到)。
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let second = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{:016x}{second:016x}", hasher.finish())
}

/// 一个有时限的子进程跑完以后的样子。
struct Bounded {
    status: Option<ExitStatus>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

/// 运行一个命令,最多 `limit`;超时就连同它的子进程一起结束。stdout、stderr 各最多留 1 MiB。
/// `stdin_line` 不为空时,把它作为一行写进程序的 stdin,然后关掉 stdin。
fn run_bounded(mut command: Command, limit: Duration, stdin_line: Option<&str>) -> Result<Bounded> {
    command
        .stdin(if stdin_line.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .with_context(|| format!("无法运行 {:?}", command.get_program()))?;
    if let (Some(line), Some(mut stdin)) = (stdin_line, child.stdin.take()) {
        let _ = stdin.write_all(format!("{line}\n").as_bytes());
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = child.wait_timeout(limit).context("等待子进程失败")?;
    let timed_out = status.is_none();
    let status = match status {
        Some(status) => Some(status),
        None => {
            kill_tree(&mut child);
            child.wait().ok()
        }
    };
    Ok(Bounded {
        status,
        timed_out,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// 结束一个子进程和它的进程组(没有隔离时,它是自己进程组的组长;有隔离时,
/// bubblewrap 一结束,沙箱里的一切都随之结束)。
fn kill_tree(child: &mut Child) {
    #[cfg(unix)]
    {
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
    let _ = child.kill();
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else {
            return String::new();
        };
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = (1usize << 20).saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}

fn describe_status(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => status.to_string(),
        None => "没有退出".to_owned(),
    }
}

/// 把原版依赖编译一次,放在 `target/course-grade/seed/`,之后每份提交复制一份来用。
///
/// 在沙箱外、用原版的课程(各课都是原样的骨架)编译:这里没有学员的代码。
/// 只有内容变了的文件才会被覆盖,所以第二次运行时 cargo 什么都不用重新编译。
/// `private` 和 [`Grader::private`] 一样:不复制进来的目录。
pub(super) fn prepare_seed(repo: &Repo, private: &[PathBuf]) -> Result<PathBuf> {
    let dir = repo.target_dir().join("course-grade").join("seed");
    let course = dir.join("course");
    let staging = dir.join("staging");
    let _ = fs::remove_dir_all(&staging);
    copy_course(&repo.root, &staging, private)?;
    for dirs in Repo::at(&staging).lessons()? {
        write_skeleton(&dirs)?;
    }
    crate::files::sync_dir(&staging, &course)?;
    fs::remove_dir_all(&staging)?;
    let target = dir.join("target");
    let mut command = Command::new(cargo());
    command.args(["build", "--locked", "--quiet"]);
    for dirs in Repo::at(&course).lessons()? {
        command.args(["-p", &dirs.package()]);
    }
    let status = command
        .current_dir(&course)
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_INCREMENTAL", "0")
        .stdin(Stdio::null())
        .status()
        .context("无法运行 cargo")?;
    if !status.success() {
        bail!("原版的课程编译失败(见上面 cargo 的输出)");
    }
    Ok(target)
}

/// 复制一份原版依赖的编译结果,保留修改时间(cargo 靠它判断不用重新编译),
/// 不要各课自己的产物(学员的代码要重新编译)。
fn copy_seed(seed: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(seed).with_context(|| format!("读不到 {}", seed.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("lesson-") || name.starts_with("lesson_") || name == "incremental" {
            continue;
        }
        let kind = entry.file_type()?;
        let dest = to.join(&name);
        if kind.is_dir() {
            copy_seed(&entry.path(), &dest)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &dest)?;
            let modified = entry.metadata()?.modified()?;
            fs::File::options()
                .write(true)
                .open(&dest)?
                .set_modified(modified)?;
        }
    }
    Ok(())
}

/// 把一课的练习换成从参考答案生成的原样骨架。
pub fn write_skeleton(dirs: &LessonDirs) -> Result<()> {
    let files = crate::skeleton::generate_src(&dirs.solution)?;
    let src = dirs.exercise.join("src");
    if src.exists() {
        fs::remove_dir_all(&src)?;
    }
    for (rel, text) in files {
        let to = dirs.exercise.join(rel);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&to, text).with_context(|| format!("无法写入 {}", to.display()))?;
    }
    Ok(())
}

/// 在 `lessons/` 里找第 `number` 课的目录(目录名以课号开头就算,改了名也找得到)。
pub(super) fn find_lesson(lessons: &Path, number: &str) -> Option<PathBuf> {
    fs::read_dir(lessons)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{number}-")))
        })
}

/// 评分用到、学员不该改的文件:和原版比,哪些改了、加了、删了。
pub(super) fn tamper_report(upstream: &Path, submission: &Path) -> Result<Vec<Tampered>> {
    let ours = graded_files(upstream)?;
    let theirs = graded_files(submission)?;
    let mut report = Vec::new();
    for (path, content) in &theirs {
        match ours.get(path) {
            None => report.push(Tampered {
                path: path.clone(),
                change: "added",
            }),
            Some(original) if original != content => {
                report.push(Tampered {
                    path: path.clone(),
                    change: "modified",
                });
            }
            Some(_) => {}
        }
    }
    for path in ours.keys().filter(|p| !theirs.contains_key(*p)) {
        report.push(Tampered {
            path: path.clone(),
            change: "removed",
        });
    }
    report.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// 一个仓库里和评分有关、但学员不该改的文件:相对路径 → 内容。
fn graded_files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut add = |path: &Path| -> Result<()> {
        if path.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(path);
            files.insert(rel.to_string_lossy().replace('\\', "/"), fs::read(path)?);
        }
        Ok(())
    };
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain",
        "rust-toolchain.toml",
    ] {
        add(&root.join(name))?;
    }
    for dir in ["tests", ".cargo"] {
        if root.join(dir).is_dir() {
            for path in crate::skeleton::rust_files(&root.join(dir))? {
                add(&path)?;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(root.join("lessons")) {
        for lesson in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            add(&lesson.join("Cargo.toml"))?;
            add(&lesson.join("build.rs"))?;
            if lesson.join("tests").is_dir() {
                for path in crate::skeleton::rust_files(&lesson.join("tests"))? {
                    add(&path)?;
                }
            }
        }
    }
    // 编译产物不算。
    files.retain(|path, _| !path.contains("/target/"));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 相对路径从课程副本的根目录算起;跑出这一课的目录(别的学员的作业、成绩册、
    /// 老师的家目录)才算想读提交以外的文件,读不到自己目录里的文件只是编译错误。
    #[test]
    fn reads_outside_the_lesson_are_named_and_reads_inside_are_not() {
        let course = Path::new("/tmp/scratch/0/course");
        let own = course.join("lessons/01-udp-server");
        let errors = "\
error: couldn't read `lessons/01-udp-server/src/../../../submissions/alice.zip`: No such file
error: couldn't read `lessons/01-udp-server/src/../../../grades/gradebook.csv`: No such file
error: couldn't read `/home/teacher/.ssh/id_ed25519`: No such file
error: couldn't read `lessons/01-udp-server/src/data.txt`: No such file
error: couldn't read `lessons/01-udp-server/src/../data/input.txt`: No such file
error: couldn't read `/home/teacher/.ssh/id_ed25519`: No such file
";
        assert_eq!(
            outside_reads(errors, course, Some(&own)),
            [
                "课程仓库里的 submissions/alice.zip",
                "课程仓库里的 grades/gradebook.csv",
                "/home/teacher/.ssh/id_ed25519",
            ]
        );
    }

    /// 超过时限的命令被结束(连同它的子进程),结果记为超时:这就是成绩册里的 timed_out。
    #[cfg(unix)]
    #[test]
    fn a_command_past_its_limit_is_killed_and_reported_as_timed_out() {
        // 故障注入:一个永远不结束的「编译」,它的子进程也不结束。
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & echo started; wait"]);
        {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let started = std::time::Instant::now();
        let run = run_bounded(command, Duration::from_millis(500), None).unwrap();
        assert!(run.timed_out);
        assert_eq!(run.stdout, "started\n");
        // stdout 读到了结尾:后台的 sleep 也被结束了(它一直拿着 stdout;没被结束的话,
        // 要等它自己 30 秒后退出)。
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
