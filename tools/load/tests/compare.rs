//! `load chat --compare` 的冒烟测试:参考答案和 Python 教程的设计(tools/interop/seed_chat.py)
//! 在同一次运行里各测一档,两个都进满了人、每一句都送到了,最后一行是两者之比。
//!
//! 它不测速度:速度的数字要用 --release 编译、在安静的机器上测,见课本「我们的服务器能撑住
//! 多少人?」。这里只保证那一章的命令一直跑得通。
//!
//! tools/load 不在根目录的 default-members 里,这个测试由 `.ci/run` 单独运行(`cargo test -p load`)。
//! 没有 python3 时跳过并说明原因;设置了 `COURSE_INTEROP_STRICT=1` 时(CI 就是这样)算失败。
//! 参考答案由测试自己编译(`cargo build -p solution-06`)。

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::program::Program;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// python3 能运行吗?不能的话返回原因。
fn python3() -> Result<(), String> {
    match Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("python3 --version 失败({status})")),
        Err(err) => Err(format!("找不到 python3({err})")),
    }
}

/// 以 `label` 开头的那一行,切成一列一列(第 2 列是「在线」,第 6 列是「未送达」)。
fn row<'a>(stdout: &'a str, label: &str) -> Option<Vec<&'a str>> {
    stdout
        .lines()
        .find(|line| line.starts_with(label))
        .map(|line| line.split_whitespace().collect())
}

/// 两个人、每秒 100 句、1 秒:两个服务器都要让两个人进门、把每一句都送到。
#[test]
fn load_chat_compare_runs_both_servers_and_prints_the_ratio() {
    if let Err(why) = python3() {
        assert!(
            std::env::var_os("COURSE_INTEROP_STRICT").is_none(),
            "COURSE_INTEROP_STRICT 要求运行这个测试,可是:{why}"
        );
        // 直接写 stderr,不用 eprintln!:测试框架会把 eprintln! 的输出藏起来(测试通过时不显示)。
        let _ = writeln!(
            std::io::stderr(),
            "\n跳过 load chat --compare 的冒烟测试:{why}\n"
        );
        return;
    }
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "-p", "solution-06"])
        .current_dir(root())
        .status()
        .expect("无法运行 cargo");
    assert!(status.success(), "编译 solution-06 失败");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root().join("target"), PathBuf::from)
        .join("debug");
    let server = target.join(format!("solution-06{}", std::env::consts::EXE_SUFFIX));
    let seed = root().join("tools/interop/seed_chat.py");

    let mut load = Program::spawn(
        Path::new(env!("CARGO_BIN_EXE_load")),
        &[
            "chat",
            "--server",
            &server.to_string_lossy(),
            "--compare",
            &seed.to_string_lossy(),
            "--compare-args",
            "--nick",
            "--clients",
            "2",
            "--rate",
            "100",
            "--seconds",
            "1",
        ],
    )
    .expect("能启动 load");
    // 一档:进门、说 1 秒、最多再等 10 秒没送到的;两个服务器各一遍。一分钟绰绰有余。
    let limit = Duration::from_secs(60);
    let status = load.wait_exit(Instant::now() + limit);
    let output = load.output();
    let (stdout, stderr) = (output.stdout(), output.stderr());
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        status.is_some_and(|s| s.success()),
        "load 没有在 {limit:?} 内以退出码 0 结束({status:?})。{shown}"
    );
    for label in ["solution-06", "seed_chat.py"] {
        let columns = row(&stdout, label).unwrap_or_else(|| panic!("没有 {label} 那一行。{shown}"));
        assert_eq!(
            columns.get(1),
            Some(&"2"),
            "{label}:两个人都要进门。{shown}"
        );
        assert_eq!(
            columns.get(5),
            Some(&"0"),
            "{label}:每一句都要送到。{shown}"
        );
    }
    let ratio = row(&stdout, "  比").unwrap_or_else(|| panic!("没有最后那行「比」。{shown}"));
    assert_eq!(
        ratio.iter().filter(|c| c.ends_with('×')).count(),
        3,
        "「比」那一行要有送达速率、p50、p99 三个比。{shown}"
    );
}
