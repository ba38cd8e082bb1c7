//! `course` 的命令行:参数写错时说中文、退出码 2;`help` 就是帮助;帮助的排版。
//! (clap 的错误怎样变成中文,在 tools/clap-zh 里有逐条的单元测试;这里试真的程序。)

use std::process::{Command, Output};

fn course(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_course"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("能运行 course")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// clap 的英文不能漏出来。
fn assert_no_english(text: &str) {
    for english in [
        "error:",
        "Usage:",
        "For more information",
        "unexpected",
        "required",
    ] {
        assert!(!text.contains(english), "有英文「{english}」:\n{text}");
    }
}

/// 少了课号、不认识的命令和选项、值不对:都是中文,退出码都是 2。
#[test]
fn argument_errors_are_chinese_and_exit_with_2() {
    for (args, wanted) in [
        (&["hint"][..], "少了必须写的参数:<LESSON>"),
        (&["hepl"][..], "没有「hepl」这个命令"),
        (&["--bogus"][..], "不认识的选项「--bogus」"),
        (
            &["hint", "01", "--step", "x"][..],
            "--step 的值「x」不对:要是一个整数",
        ),
        (&["grade", "--format", "xml"][..], "可以写:table、json、csv"),
    ] {
        let out = course(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stderr}");
        assert!(stderr.contains(wanted), "{args:?}\n{stderr}");
        assert!(stderr.starts_with("错误: "), "{args:?}\n{stderr}");
        assert_no_english(&stderr);
    }
}

/// `grade --help` 和 `grade merge --help` 也是中文:没有 Usage/Arguments/Options,
/// 也没有 `[default: grades]`;grade 的帮助里列出了 merge。
#[test]
fn grade_and_merge_help_are_chinese() {
    let help = |args: &[&str]| {
        let out = course(args);
        let help = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{help}");
        assert_no_english(&help);
        for english in ["Arguments:", "Options:", "Commands:", "[default"] {
            assert!(
                !help.contains(english),
                "{args:?} 有英文「{english}」:\n{help}"
            );
        }
        help
    };
    let grade = help(&["grade", "--help"]);
    assert!(grade.contains("命令:\n  merge "), "{grade}");
    assert!(grade.contains("默认 grades/"), "{grade}");
    let merge = help(&["grade", "merge", "--help"]);
    assert!(merge.contains("参数:\n  <PARTS>..."), "{merge}");
    assert!(merge.contains("合并后的输出目录(默认 grades/)"), "{merge}");
}

/// 没有 bubblewrap 的机器上(这里把它从 PATH 里拿掉),`--require-sandbox` 一份也不评,
/// 以失败结束,说清楚为什么;不加它时照样评分(见 tests/class.rs)。
#[test]
fn require_sandbox_refuses_to_grade_without_isolation() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("能运行 rustc");
    let bin = std::path::PathBuf::from(text(&sysroot.stdout).trim()).join("bin");
    let class = std::env::temp_dir().join(format!("course-cli-require-{}", std::process::id()));
    let out_dir = class.join("grades");
    std::fs::create_dir_all(class.join("submissions/alice/lessons")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .args([
            "grade",
            "--class",
            "submissions",
            "--require-sandbox",
            "--out",
        ])
        .arg(&out_dir)
        .current_dir(&class)
        .env("PATH", &bin)
        .env_remove("RUSTC")
        .env("NO_COLOR", "1")
        .output()
        .expect("能运行 course");
    let stderr = text(&out.stderr);
    let graded = out_dir.exists();
    let _ = std::fs::remove_dir_all(&class);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("沙箱:不完整"), "{stderr}");
    assert!(stderr.contains("--require-sandbox"), "{stderr}");
    assert!(!graded, "不该评分、写出成绩册:{stderr}");
}

/// `course help` 和 `course help hint` 就是帮助,退出码 0。
#[test]
fn help_as_a_command_shows_the_help() {
    let out = course(&["help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("命令(不写就是看进度)"));
    let out = course(&["help", "hint"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("看一条提示"));
}

/// `hint --help`:`--step` 在「选项」下面自己的一行,不接在 `<LESSON>` 那一行后面。
#[test]
fn hint_help_puts_each_argument_on_its_own_line() {
    let out = course(&["hint", "--help"]);
    let help = text(&out.stdout);
    let lesson = help
        .lines()
        .find(|l| l.contains("<LESSON>"))
        .expect("有 <LESSON>");
    assert!(!lesson.contains("--step"), "{help}");
    assert!(help.contains("选项:\n      --step <STEP>"), "{help}");
    assert_no_english(&help);
}

/// `course … | head`:读的一头先关掉了,course 安静地退出(退出码 0),不 panic。
#[test]
fn a_closed_stdout_ends_course_quietly() {
    for args in [&["dev", "todos"][..], &["help"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_course"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("能运行 course");
        // 程序还没来得及打印第一行,读的一头就关掉了(和 `| head -n 0` 一样)。
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("course 结束了");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}\n{stderr}");
    }
}

/// 一个最小的课程仓库(在临时目录里):`course hint` 只需要各课的目录和提示文件。
/// 进度写在它自己的 .course/ 里,碰不到真正的仓库。
struct ScratchRepo(std::path::PathBuf);

impl ScratchRepo {
    fn new(label: &str) -> ScratchRepo {
        let root = std::env::temp_dir().join(format!("course-cli-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for side in ["lessons", "solutions"] {
            for entry in std::fs::read_dir(real.join(side)).unwrap() {
                let name = entry.unwrap().file_name();
                std::fs::create_dir_all(root.join(side).join(name)).unwrap();
            }
        }
        std::fs::create_dir_all(root.join("tools/course/hints")).unwrap();
        std::fs::copy(
            real.join("tools/course/hints/01.md"),
            root.join("tools/course/hints/01.md"),
        )
        .unwrap();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        ScratchRepo(root)
    }

    /// 在这个仓库里运行 course,stdin 不是终端。
    fn course(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_course"))
            .args(args)
            .current_dir(&self.0)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("能运行 course");
        (out.status.code(), text(&out.stdout) + &text(&out.stderr))
    }
}

impl Drop for ScratchRepo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `hint 01 --step 2`:「再运行一次」带着 --step 2;最后一级先问一声(stdin 不是终端时不等,
/// 说怎样加 --yes),加了 --yes 才看;看过以后不再问。
#[test]
fn the_last_hint_level_asks_once_and_the_rerun_line_keeps_the_step() {
    let repo = ScratchRepo::new("hint");
    let hint = ["hint", "01", "--step", "2"];
    let (code, out) = repo.course(&hint);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("提示 1/3"), "{out}");
    assert!(
        out.contains("再运行一次 cargo run -p course -- hint 01 --step 2,"),
        "{out}"
    );
    let (_, out) = repo.course(&hint);
    assert!(
        out.contains("提示 2/3") && out.contains("会先问你一声"),
        "{out}"
    );

    // 第 3 级:不等回答(不会挂住),说怎样确认,提示不给、进度不动。
    let (code, out) = repo.course(&hint);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("hint 01 --step 2 --yes"), "{out}");
    assert!(!out.contains("提示 3/3"), "{out}");
    let (_, out) = repo.course(&hint);
    assert!(!out.contains("提示 3/3"), "问过一次、没确认,还是不给:{out}");

    let (code, out) = repo.course(&["hint", "01", "--step", "2", "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("提示 3/3"), "{out}");
    // 确认过了:记在进度里,以后不再问。
    let (code, out) = repo.course(&hint);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("提示 3/3") && !out.contains("--yes"), "{out}");
}

/// README 和课本里写的每一条 `cargo run -p course -- …` 命令,course 都认得:子命令存在,
/// 选项也都对。做法是在命令后面加上 `--help` 运行:认不得的子命令或选项让它以退出码 2 失败,
/// 认得的只打印帮助。(README 说 `course book --open`,course 就得真有这个命令。)
#[test]
fn every_course_command_in_the_readme_and_the_book_is_accepted() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("book/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    const START: &str = "-p course -- ";
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in &files {
        let doc = std::fs::read_to_string(file).unwrap();
        for (at, _) in doc.match_indices(START) {
            // 命令到行内代码的反引号、注释、管道、引号、括号或者行尾为止;代码块里,命令后面
            // 隔着几个空格的是说明文字。
            let rest = &doc[at + START.len()..];
            let end = rest
                .find(['`', '#', '|', '\'', ';', '(', '（', '\n'])
                .unwrap_or(rest.len());
            let end = rest[..end].find("  ").unwrap_or(end);
            let mut args: Vec<&str> = rest[..end].split_whitespace().collect();
            if args.is_empty() {
                continue;
            }
            args.push("--help");
            let out = course(&args);
            if out.status.code() != Some(0) {
                problems.push(format!(
                    "{}: course {}\n{}",
                    file.display(),
                    args.join(" "),
                    text(&out.stderr)
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "只找到 {checked} 条 course 命令");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
