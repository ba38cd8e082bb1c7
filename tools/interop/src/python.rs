//! 找 Python 3:教程风格的程序要用它运行。
//!
//! 各个系统上它的名字不一样:Linux、macOS 上通常是 `python3`;Windows 上从 python.org 装的是
//! `python`,还有一个启动器 `py -3`(Windows 自带的 `python3` 可能只是一个打开应用商店的空壳,
//! 所以每个候选都要真的运行一下,确认它是 Python 3.7 或更新的版本)。
//! 环境变量 `COURSE_PYTHON` 可以指定一个程序,它排在最前面。

use std::path::PathBuf;
use std::time::Duration;

use harness::grader::deadline;
use harness::program::Program;

/// 一个能用的 Python 3。
#[derive(Clone, Debug)]
pub struct Python {
    /// 要运行的程序。
    program: PathBuf,
    /// 放在脚本前面的参数(`py -3` 的 `-3`)。
    prefix: Vec<String>,
}

/// 试一个候选最多等这么久(Python 启动很快;机器很忙时也用不了这么久)。
const PROBE: Duration = Duration::from_secs(10);

impl Python {
    /// 按顺序试 `COURSE_PYTHON`、`python3`、`python`、`py -3`,返回第一个能用的。
    /// 一个也找不到时,返回给学员看的说明。
    pub fn find() -> Result<Python, String> {
        let mut candidates: Vec<Vec<String>> = Vec::new();
        if let Some(custom) = std::env::var_os("COURSE_PYTHON").filter(|v| !v.is_empty()) {
            candidates.push(vec![custom.to_string_lossy().into_owned()]);
        }
        for words in [&["python3"][..], &["python"], &["py", "-3"]] {
            candidates.push(words.iter().map(|w| (*w).to_owned()).collect());
        }
        candidates
            .into_iter()
            .map(|words| Python {
                program: PathBuf::from(&words[0]),
                prefix: words[1..].to_vec(),
            })
            .find(Python::works)
            .ok_or_else(|| {
                "没有找到 Python 3.7 或更新的版本(试过 COURSE_PYTHON、python3、python、py -3)。\n\
                 互通实验要用它运行教程风格的程序。Linux 上用包管理器安装 python3;\n\
                 Windows 上从 python.org 安装,安装时勾选「Add python.exe to PATH」;\n\
                 装在别处的,用环境变量 COURSE_PYTHON 指向它。"
                    .to_owned()
            })
    }

    /// 运行 `python 参数…` 时的程序和完整参数。
    pub fn command<'a>(&'a self, args: &[&'a str]) -> (&'a std::path::Path, Vec<&'a str>) {
        let mut full: Vec<&str> = self.prefix.iter().map(String::as_str).collect();
        full.extend_from_slice(args);
        (&self.program, full)
    }

    /// 给人看的名字:`python3`、`py -3`。
    pub fn shown(&self) -> String {
        let mut words = vec![self.program.to_string_lossy().into_owned()];
        words.extend(self.prefix.iter().cloned());
        words.join(" ")
    }

    /// 真的运行它一下:能启动、是 Python 3.7 或更新的版本。
    fn works(&self) -> bool {
        let check = "import sys; print('ok' if sys.version_info >= (3, 7) else 'old')";
        let (program, args) = self.command(&["-c", check]);
        let Ok(mut probe) = Program::spawn(program, &args) else {
            return false;
        };
        let exited = probe.wait_exit(deadline(PROBE));
        exited.is_some_and(|status| status.success()) && probe.output().stdout().trim() == "ok"
    }
}
