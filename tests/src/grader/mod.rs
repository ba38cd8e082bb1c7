//! 评分器:按顺序运行一课的各项检查(代码里叫 Step),记录每一项的结果,失败时给出诊断。
//!
//! 给学员看的文字里,评分器的检查叫「第 N 项」,骨架里要写的代码叫「第 N 步」:
//! 两套编号各管各的,免得「第 2 项没通过」被误读成「骨架的第 2 步写错了」。
//!
//! 每一步都启动一份新的被测程序,所以步骤之间互不影响;默认在第一个失败处停下
//! (学员只需要看一个问题),设置 `COURSE_KEEP_GOING=1` 则跑完所有步骤(老师按项给分)。
//! 设置 `COURSE_REPORT=文件` 会把每一步的结果以一行 JSON 追加到该文件,供程序读取。

//!
//! 分成几个文件:[`session`] 是一项检查运行时的环境(启动程序、找到服务器),[`finished`] 是
//! 「运行完的程序」和它该怎么结束,[`run`] 按顺序运行一课的检查、渲染失败信息。

mod finished;
mod run;
mod session;

use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::program::Ending;

pub use crate::diagnose::diagnose_stderr;
pub use finished::{ErrorExit, Finished, LATE, NOT_A_SUCCESS};
pub use run::{grade, run, run_with, write_report};
pub use session::{Server, Session};

/// 一课:编号、标题、对应的章节,以及有序的步骤。
pub struct Lesson {
    /// 两位数的课号,和目录、包名一致,比如 "01"。
    pub number: &'static str,
    pub title: &'static str,
    /// 相对仓库根目录的章节文件,失败信息里会让学员去读它。
    pub chapter: &'static str,
    /// 这一课的服务器是不是应该一直运行(第 3、4、6 课)。是的话,服务器在一项检查里
    /// 自己退出了,就是这一项失败最可能的原因(见 [`run_with`])。第 1 课的服务器回复一次就退出。
    pub server_keeps_running: bool,
    /// 规则清单:章节里写明的每一条要求由哪几项检查、哪些例子违反它(见 [`crate::rules`])。
    pub rules: &'static [crate::rules::Rule],
    pub steps: &'static [Step],
}

impl Lesson {
    /// 给人看的课号:"01" → "1"。
    pub fn display_number(&self) -> &'static str {
        self.number.trim_start_matches('0')
    }

    /// 章节的标题,比如「第 1 课 · UDP 服务器」。课本的侧栏(SUMMARY.md)、章节的一级标题和
    /// 失败信息的「阅读:」一行都用这一个写法(tests/tests/book.rs 核对前两者)。
    pub fn chapter_title(&self) -> String {
        format!("第 {} 课 · {}", self.display_number(), self.title)
    }
}

/// 一个步骤:一句描述行为的话,分值,以及检查它的函数。
pub struct Step {
    pub name: &'static str,
    pub points: u32,
    pub check: fn(&mut Session) -> Result<(), Failure>,
}

/// 程序启动后打印地址的期限。
pub const STARTUP: Duration = Duration::from_secs(5);
/// 等一个回复的期限。
pub const REPLY: Duration = Duration::from_secs(5);
/// 等程序自己退出的期限。
pub const EXIT: Duration = Duration::from_secs(5);
/// 「一个不多」:该收的都收到以后,再等这么久,确认没有多出来的东西。
/// 多出来的东西(重复的回复、多的一行)都是紧跟着正确的那份一起来的,在本机上只差几微秒。
pub const NOTHING_MORE: Duration = Duration::from_millis(200);

/// 从现在起 `limit` 之后的时刻。慢机器上可以用 `COURSE_TIMEOUT_SCALE=3` 把所有期限放大。
pub fn deadline(limit: Duration) -> Instant {
    Instant::now() + scaled(limit)
}

/// 按 `COURSE_TIMEOUT_SCALE` 放大的时长。
pub fn scaled(limit: Duration) -> Duration {
    let scale = std::env::var("COURSE_TIMEOUT_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 1.0)
        .unwrap_or(1.0);
    limit.mul_f64(scale)
}

/// 用中文描述程序的退出状态。
pub fn describe_exit(status: Option<std::process::ExitStatus>) -> String {
    match status {
        Some(status) => describe_ending(Some(Ending::Exited(status))),
        None => "程序关闭了 stdout,但没有退出".to_owned(),
    }
}

fn describe_ending(ending: Option<Ending>) -> String {
    match ending {
        None => "仍在运行".to_owned(),
        Some(Ending::Killed) => "仍在运行,已被评分器结束".to_owned(),
        Some(Ending::Exited(status)) => match status.code() {
            Some(0) => "已退出,退出码 0".to_owned(),
            Some(101) => "已退出,退出码 101:程序 panic 了".to_owned(),
            Some(code) => format!("已退出,退出码 {code}"),
            None => format!("被信号结束:{status}"),
        },
    }
}

/// 同时做好几次同样的检查(每一次用一个输入、一个自己的程序),返回按顺序的第一个失败。
///
/// 一项检查要试好几个输入时用它:每一次都要等一小会儿(比如确认没有多出来的东西),
/// 一个一个地等就太慢了。结果和一个一个做完全一样:第一个失败的那一次说了算。
///
/// 每一次的准备(启动程序、绑定端口)由 `start` 在调用方的线程里依次做,做好一个就马上
/// 开始检查它,不等别的准备好。
///
/// 测客户端时要这样:客户端一启动,它自己的超时就开始计时。要是先把所有客户端都启动好
/// 再一起检查,最先启动的那个就得等后面的都启动完,机器一忙,它可能就这样等到了超时,
/// 错的却是评分器。依次启动,编号(「客户端 #2」)也就每次都一样。
pub fn each_at_once<I, T: Send>(
    inputs: Vec<I>,
    mut start: impl FnMut(I) -> Result<T, Failure>,
    check: impl Fn(T) -> Result<(), Failure> + Sync,
) -> Result<(), Failure> {
    let check = &check;
    let (results, not_started) = std::thread::scope(|scope| {
        let mut running = Vec::new();
        let mut not_started = None;
        for input in inputs {
            match start(input) {
                Ok(trial) => running.push(scope.spawn(move || check(trial))),
                Err(failure) => {
                    not_started = Some(failure);
                    break;
                }
            }
        }
        let results: Vec<Result<(), Failure>> = running
            .into_iter()
            .map(|trial| {
                trial
                    .join()
                    .unwrap_or_else(|_| Err(Failure::new("评分器的一个线程 panic 了")))
            })
            .collect();
        (results, not_started)
    });
    // 和一个一个做一样:按顺序的第一个失败说了算;准备失败的那一次排在已经开始的之后。
    results.into_iter().collect::<Result<(), Failure>>()?;
    not_started.map_or(Ok(()), Err)
}
