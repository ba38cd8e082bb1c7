//! 给学员的命令:看进度、评分、边改边评、提示、重置。

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap_zh::{say, say_part};
use colored::Colorize;
use harness::{Report, Status};

use crate::hints;
use crate::progress::{Graded, Progress};
use crate::repo::{LessonDirs, Repo};
use crate::skeleton;
use crate::width::{display_width, pad};

/// 一课现在的状态。
enum State {
    NotStarted,
    /// 改过代码了;评过分的话,带着最近一次的结果。
    InProgress(Option<Graded>),
    Done(Graded),
}

fn state(dirs: &LessonDirs, progress: &Progress) -> State {
    match progress.graded.get(dirs.lesson.number) {
        Some(g) if g.done() => State::Done(*g),
        // 评过分、一项也没过、代码也没动过:就是还没开始。
        Some(g) if g.passed == 0 && !touched(dirs) => State::NotStarted,
        Some(g) => State::InProgress(Some(*g)),
        None if touched(dirs) => State::InProgress(None),
        None => State::NotStarted,
    }
}

/// 练习和最初的骨架不一样了吗?(生成不了骨架时,当作没改过。)
fn touched(dirs: &LessonDirs) -> bool {
    let Ok(files) = skeleton::generate_src(&dirs.solution) else {
        return false;
    };
    files.iter().any(|(rel, text)| {
        fs::read_to_string(dirs.exercise.join(rel)).map_or(true, |now| now != *text)
    })
}

/// 练习里还剩下的第一个 `todo!()`:(第几步, 文件, 行号)。
pub fn first_todo(dirs: &LessonDirs) -> Option<(usize, PathBuf, usize)> {
    let mut found: Vec<(usize, PathBuf, usize)> = Vec::new();
    for path in skeleton::rust_files(&dirs.exercise.join("src")).ok()? {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || !code.contains("todo!(") {
                continue;
            }
            // todo!("第 3 步:…") 的文字可能在同一行,也可能在下一行。
            let around = format!("{line}{}", lines.get(i + 1).unwrap_or(&""));
            if let Some(step) = step_number(&around) {
                found.push((step, path.clone(), i + 1));
            }
        }
    }
    found.into_iter().min_by_key(|(step, _, _)| *step)
}

/// 从「第 3 步」里取出 3。
fn step_number(text: &str) -> Option<usize> {
    let rest = &text[text.find("第 ")? + "第 ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if !rest[digits.len()..].starts_with(" 步") {
        return None;
    }
    digits.parse().ok()
}

/// 相对仓库根目录的路径,给人看。
fn shown(repo: &Repo, path: &Path) -> String {
    path.strip_prefix(&repo.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------
// course(不带参数):一览
// ---------------------------------------------------------------------------

pub fn status(repo: &Repo) -> Result<ExitCode> {
    let progress = Progress::load(&repo.root);
    let lessons = repo.lessons()?;
    say!("{}\n", "Socket 编程实战 (Rust 版)".bold());
    let width = lessons
        .iter()
        .map(|l| display_width(&l.title()))
        .max()
        .unwrap_or(0);
    let mut done = 0;
    let mut next: Option<&LessonDirs> = None;
    for dirs in &lessons {
        let total = dirs.lesson.steps.len();
        let (mark, bar, words) = match state(dirs, &progress) {
            State::Done(g) => {
                done += 1;
                ("✓".green(), bar(g.passed, g.total), "完成".green())
            }
            State::InProgress(graded) => {
                next.get_or_insert(dirs);
                let passed = graded.map_or(0, |g| g.passed);
                let words = match graded {
                    Some(g) => format!("进行中,通过 {}/{} 项", g.passed, g.total),
                    None => "进行中,还没评过分".to_owned(),
                };
                ("▶".yellow(), bar(passed, total), words.yellow())
            }
            State::NotStarted => {
                next.get_or_insert(dirs);
                ("·".dimmed(), bar(0, total), "未开始".dimmed())
            }
        };
        say!("  {mark} {}  {bar}  {words}", pad(&dirs.title(), width));
    }
    // 「总进度」的进度条和上面每一课的对齐:标记占一列,加一个空格。
    say!(
        "\n  {}  {}  完成 {done}/{} 课",
        pad("总进度", width + 2),
        bar(done, lessons.len()),
        lessons.len()
    );

    let Some(dirs) = next else {
        say!(
            "\n{}",
            "六课全部完成!去看看课本的「我们的服务器能撑住多少人？」吧。".green()
        );
        return Ok(ExitCode::SUCCESS);
    };
    say!("\n{} {}", "下一步:".bold(), dirs.title().bold());
    for line in next_steps(repo, dirs) {
        say!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// 「下一步」下面的几行:左边一列是要做的事,右边一列从同一列开始(按终端的列数对齐)。
fn next_steps(repo: &Repo, dirs: &LessonDirs) -> Vec<String> {
    let number = dirs.lesson.number;
    let open = match first_todo(dirs) {
        Some((step, file, line)) => format!("{}:{line}(骨架的第 {step} 步)", shown(repo, &file)),
        None => shown(repo, &dirs.exercise.join("src")),
    };
    let rows = [
        ("打开", open),
        ("读", dirs.lesson.chapter.to_owned()),
        (
            "评分",
            format!(
                "cargo run -p course -- check {number}(和 cargo test -p {} 一样)",
                dirs.package()
            ),
        ),
        ("边改边评", "cargo run -p course -- watch".to_owned()),
        ("卡住了", format!("cargo run -p course -- hint {number}")),
    ];
    let width = rows
        .iter()
        .map(|(label, _)| display_width(label))
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(label, what)| format!("  {}  {what}", pad(label, width)))
        .collect()
}

fn bar(filled: usize, total: usize) -> String {
    const WIDTH: usize = 12;
    let full = (filled * WIDTH).checked_div(total).unwrap_or(0);
    format!("{}{}", "█".repeat(full), "░".repeat(WIDTH - full))
}

// ---------------------------------------------------------------------------
// course check [NN]
// ---------------------------------------------------------------------------

/// 给一课评分(不给课号就从第 1 课起按顺序评,遇到没通过的就停)。全部通过返回 true。
pub fn check(repo: &Repo, number: Option<&str>) -> Result<bool> {
    let lessons = match number {
        Some(number) => vec![repo.lesson(number)?],
        None => repo.lessons()?,
    };
    for dirs in &lessons {
        if !check_one(repo, dirs, false)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// 编译并评分一课,打印诊断,记下进度。通过返回 true。
///
/// `watching` 为真时(course watch),最后一句说「保存就会重新评分」,而不是「再运行一次」。
fn check_one(repo: &Repo, dirs: &LessonDirs, watching: bool) -> Result<bool> {
    say!(
        "{}",
        format!("==> {}:编译并评分 {}", dirs.title(), dirs.package()).bold()
    );
    let exe = match repo.build(&dirs.package(), &repo.target_dir()) {
        Ok(exe) => exe,
        Err(err) => {
            say!(
                "\n{} {err:#}\n先修好上面的编译错误。骨架本身一定能编译;如果改乱了,可以 \
                 cargo run -p course -- reset {} 恢复。",
                "✗".red(),
                dirs.lesson.number
            );
            return Ok(false);
        }
    };
    let report = harness::run(dirs.lesson, &exe, &dirs.package());
    harness::grader::write_report(&report);
    let next = if watching {
        "改好以后保存文件,会自动重新评分。".to_owned()
    } else {
        format!(
            "改好以后再运行: cargo run -p course -- check {}(或 cargo test -p {})",
            dirs.lesson.number,
            dirs.package()
        )
    };
    // 颜色只在打印时加(course 的 main 已经按「是不是终端、有没有 NO_COLOR」设好了 colored)。
    let explained = report.explain_then(&next);
    if colored::control::SHOULD_COLORIZE.should_colorize() {
        say!("{}", harness::failure::paint(&explained));
    } else {
        say!("{explained}");
    }
    record(repo, &report)?;
    Ok(report.first_failure().is_none())
}

fn record(repo: &Repo, report: &Report) -> Result<()> {
    let mut progress = Progress::load(&repo.root);
    progress.graded.insert(
        report.lesson.to_owned(),
        Graded {
            passed: report
                .steps
                .iter()
                .filter(|s| s.status == Status::Passed)
                .count(),
            total: report.steps.len(),
        },
    );
    progress.save()
}

// ---------------------------------------------------------------------------
// course watch [NN]
// ---------------------------------------------------------------------------

/// 每隔这么久看一次文件有没有变。
const POLL: Duration = Duration::from_millis(300);

/// 保存文件就重新评分。不给课号时评「下一课」(第一课还没完成的),通过了就自动换到下一课。
///
/// 只用轮询(每 0.3 秒比一次文件的修改时间和大小):文件系统的通知在 WSL、网络盘和
/// 一些编辑器(先写临时文件再改名)上并不可靠,而轮询十几个小文件几乎不花什么。
pub fn watch(repo: &Repo, number: Option<&str>) -> Result<ExitCode> {
    let fixed = number.map(|n| repo.lesson(n)).transpose()?;
    loop {
        let dirs = match &fixed {
            Some(dirs) => repo.lesson(dirs.lesson.number)?,
            None => {
                let progress = Progress::load(&repo.root);
                match repo
                    .lessons()?
                    .into_iter()
                    .find(|d| !matches!(state(d, &progress), State::Done(_)))
                {
                    Some(dirs) => dirs,
                    None => {
                        say!("{}", "六课全部完成!".green());
                        return Ok(ExitCode::SUCCESS);
                    }
                }
            }
        };
        clear_screen();
        let src = dirs.exercise.join("src");
        say!(
            "{}",
            format!(
                "[course watch] {} · 保存 {} 里的文件就会重新评分,Ctrl-C 退出",
                dirs.title(),
                shown(repo, &src)
            )
            .dimmed()
        );
        let before = snapshot(&src);
        let passed = check_one(repo, &dirs, true)?;
        if passed && fixed.is_none() {
            say!("{}", "这一课通过了!2 秒后换到下一课……".green());
            std::thread::sleep(Duration::from_secs(2)); // 给人看一眼结果,不是同步。
            continue;
        }
        say!("{}", "[course watch] 等你保存文件……".dimmed());
        // 评分期间改过的文件也算:比的是评分开始之前的样子。
        while snapshot(&src) == before {
            std::thread::sleep(POLL); // 轮询文件,不是同步。
        }
        // 编辑器常常分几次写完一个文件:等它安静下来再评。
        let mut last = snapshot(&src);
        loop {
            std::thread::sleep(POLL);
            let now = snapshot(&src);
            if now == last {
                break;
            }
            last = now;
        }
    }
}

/// 目录里每个文件的 (修改时间, 大小)。
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Option<SystemTime>, u64)> {
    skeleton::rust_files(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|path| {
            let meta = fs::metadata(&path).ok()?;
            Some((path, (meta.modified().ok(), meta.len())))
        })
        .collect()
}

/// 在终端里清屏,让每次评分的结果都从屏幕顶上开始;输出不是终端时什么也不做。
fn clear_screen() {
    if io::stdout().is_terminal() {
        say_part!("\x1b[2J\x1b[H");
        let _ = io::stdout().flush();
    }
}

// ---------------------------------------------------------------------------
// course hint NN
// ---------------------------------------------------------------------------

/// 看一条提示。同一步每问一次就更具体一级;最后一级差不多就是答案,第一次看之前先问一声
/// (`yes` 为真就不问;stdin 不是终端时不等回答,说怎样加 --yes)。
pub fn hint(repo: &Repo, number: &str, step: Option<usize>, yes: bool) -> Result<ExitCode> {
    let dirs = repo.lesson(number)?;
    let number = dirs.lesson.number;
    // 学员点了名的那一步,「再运行一次」的命令里也要带上它。
    let again = match step {
        Some(step) => format!("cargo run -p course -- hint {number} --step {step}"),
        None => format!("cargo run -p course -- hint {number}"),
    };
    let step = match step.or_else(|| first_todo(&dirs).map(|(step, _, _)| step)) {
        Some(step) => step,
        None => {
            say!(
                "{} 的骨架里已经没有 todo!() 了。运行 cargo run -p course -- check {number}:\
                 失败信息里的「提示」就是针对那一项检查的;想看某一步的提示,加上 --step N。",
                dirs.title()
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    let levels = hints::for_step(&repo.root, number, step).with_context(|| {
        format!(
            "{} 的第 {step} 步没有写提示(tools/course/hints/{number}.md)",
            dirs.title()
        )
    })?;
    let mut progress = Progress::load(&repo.root);
    let seen = progress
        .hints
        .get(&(number.to_owned(), step))
        .copied()
        .unwrap_or(0);
    let level = (seen + 1).min(levels.len());
    // 最后一级差不多就是答案:第一次看之前问一声。看过了,进度里记着,以后不再问。
    if level == levels.len() && seen < level && !yes && !spoiler_confirmed(&again)? {
        return Ok(ExitCode::FAILURE);
    }
    progress.hints.insert((number.to_owned(), step), level);
    progress.save()?;

    say!(
        "{}",
        format!(
            "{} · 第 {step} 步 · 提示 {level}/{}",
            dirs.title(),
            levels.len()
        )
        .bold()
    );
    say!("\n{}\n", levels[level - 1].trim_end());
    if level + 1 < levels.len() {
        say!(
            "{}",
            format!("还是不会?再运行一次 {again},提示会更具体一些。").dimmed()
        );
    } else if level + 1 == levels.len() {
        say!(
            "{}",
            format!("还是不会?再运行一次 {again}。下一级差不多就是答案了,到时候会先问你一声。")
                .dimmed()
        );
    } else {
        say!(
            "{}",
            format!(
                "这是最具体的一级了。还卡着的话,对照参考答案 {} 看看。",
                shown(repo, &dirs.solution.join("src"))
            )
            .dimmed()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// 问学员要不要看最后一级提示。stdin 不是终端(脚本、编辑器里的任务)时不等回答:
/// 说一声怎样加 --yes,返回 false。
fn spoiler_confirmed(again: &str) -> Result<bool> {
    say!("最后一级提示差不多就是答案了。先自己再试一试,收获会大得多。");
    if !io::stdin().is_terminal() {
        say!("确定要看的话,加上 --yes:{again} --yes");
        return Ok(false);
    }
    if confirm("确定现在就看吗?输入 y 回车:")? {
        return Ok(true);
    }
    say!("好,先不看。想看的时候再运行一次 {again}。");
    Ok(false)
}

// ---------------------------------------------------------------------------
// course reset NN
// ---------------------------------------------------------------------------

pub fn reset(repo: &Repo, number: &str, yes: bool) -> Result<ExitCode> {
    let dirs = repo.lesson(number)?;
    let src = dirs.exercise.join("src");
    let fresh = skeleton::generate_src(&dirs.solution)?;
    say!(
        "要把 {} 恢复成最初的骨架:{} 里你写的代码会被换掉。",
        dirs.title(),
        shown(repo, &src)
    );
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let backup = repo
        .root
        .join(".course")
        .join("backup")
        .join(format!("{}-{stamp}", dirs.name));
    say!("现在的代码会先备份到 {}。", shown(repo, &backup));
    if !yes && !confirm("确定吗?输入 y 回车确认:")? {
        say!("没有改动任何文件。");
        return Ok(ExitCode::FAILURE);
    }
    // 先备份整个 src/(包括你自己加的文件),再换成骨架。
    for path in skeleton::rust_files(&src)? {
        let rel = path.strip_prefix(&src).expect("在 src 里");
        let to = backup.join(rel);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::copy(&path, &to).with_context(|| format!("无法备份 {}", path.display()))?;
    }
    fs::remove_dir_all(&src).with_context(|| format!("无法清空 {}", src.display()))?;
    for (rel, text) in fresh {
        let to = dirs.exercise.join(rel);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&to, text).with_context(|| format!("无法写入 {}", to.display()))?;
    }
    let mut progress = Progress::load(&repo.root);
    progress.forget(dirs.lesson.number);
    progress.save()?;
    say!(
        "{}",
        format!("{} 已经恢复成最初的骨架。", dirs.title()).green()
    );
    Ok(ExitCode::SUCCESS)
}

fn confirm(question: &str) -> Result<bool> {
    say_part!("{question}");
    io::stdout().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "是"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_numbers_are_read_from_todo_text() {
        assert_eq!(step_number("todo!(\"第 3 步:读一行\")"), Some(3));
        assert_eq!(step_number("todo!(\"第 12 步:重试\")"), Some(12));
        assert_eq!(step_number("todo!()"), None);
    }

    /// 「下一步」的每一行,右边一列都从同一列开始(按终端的列数,不是按字数)。
    #[test]
    fn next_steps_line_up_by_display_width() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let repo = Repo::at(&root);
        let dirs = repo.lesson("01").unwrap();
        let rows = next_steps(&repo, &dirs);
        let columns: Vec<usize> = rows
            .iter()
            .map(|row| {
                let label_end = row.find(|c: char| c.is_ascii_alphanumeric()).unwrap();
                display_width(&row[..label_end])
            })
            .collect();
        assert!(columns.iter().all(|c| *c == columns[0]), "{rows:#?}");
    }

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 6), "░".repeat(12));
        assert_eq!(bar(3, 6), format!("{}{}", "█".repeat(6), "░".repeat(6)));
        assert_eq!(bar(0, 0), "░".repeat(12));
    }
}
