//! TCP 的几对:教程风格的客户端对第 4 课的服务器,第 5 课的客户端对教程风格的服务器。

use std::time::Duration;

use anyhow::Result;

use crate::{Lab, MESSAGE, Outcome, Trial};

/// 客户端每一步最多等 5 秒;再给启动和退出留些余量。
const CLIENT_EXIT: Duration = Duration::from_secs(15);
/// 第 4 课的服务器放弃一个不发完一行的客户端以后,最多再等这么久看它的日志。
const SERVER_LOG: Duration = Duration::from_secs(5);
/// 第 4 课的服务器等一整行最多等几秒。默认是 5 秒,和客户端的一样长;演示里用 1 秒,
/// 不用干等,也让「服务器先放弃」这件事每次都一样。
const SERVER_TIMEOUT: &str = "1";

/// 04:教程风格的 TCP 客户端(`flags` 是它的开关:`--newline`、`--shutdown`)→ 第 4 课的服务器。
pub(crate) fn client_to_04(lab: &Lab, flags: &[&str]) -> Result<Trial> {
    let (server, addr) = lab.rust_server("04", &["--timeout", SERVER_TIMEOUT])?;
    let port = addr.port().to_string();
    let mut args = flags.to_vec();
    args.extend(["--port", &port, "--message", MESSAGE]);
    let client = lab
        .python("tcp_client.py", "客户端", &args)?
        .run_to_end(CLIENT_EXIT);

    let replied = client.code == Some(0) && client.stdout.starts_with("服务器回复: 收到来自 ");
    let (outcome, evidence) =
        if replied && client.stdout.ends_with(&format!(" 的消息: {MESSAGE}\n")) {
            (Outcome::Works, "客户端收到了服务器的一整行回复。")
        } else if replied {
            (Outcome::Degrades, "客户端收到了回复,但回复里的消息不对。")
        } else {
            // 服务器是在关闭连接「之后」才写这条日志的:等它写完,记录才每次都一样。
            server.wait_output(SERVER_LOG, "没有发完一行");
            (Outcome::Fails, "客户端没有收到回复。")
        };
    Ok(Trial {
        outcome,
        evidence: evidence.to_owned(),
        programs: vec![server.finish(), client],
    })
}

/// 05:第 5 课的客户端 → 教程风格的 TCP 服务器(`flags` 是它的开关:`--newline`)。
pub(crate) fn solution05_to(lab: &Lab, flags: &[&str]) -> Result<Trial> {
    let (server, addr) = lab.python_server("tcp_server.py", flags)?;
    let port = addr.port().to_string();
    let args = ["--port", port.as_str(), "--message", MESSAGE];
    let client = lab
        .rust("05", "客户端", &args, false)?
        .run_to_end(CLIENT_EXIT);

    let start = format!("服务器回复: Received msg: {MESSAGE}");
    let (outcome, evidence) = if client.code != Some(0) || !client.stdout.starts_with(&start) {
        (Outcome::Fails, "客户端没有打印服务器的回复。")
    } else if client.stdout.contains(" from ('127.0.0.1', ") {
        (Outcome::Works, "客户端打印了完整的回复,包括「from (…)」。")
    } else {
        (
            Outcome::Degrades,
            "客户端只打印了回复的前半截「Received msg: …」,「from (…)」不见了。",
        )
    };
    Ok(Trial {
        outcome,
        evidence: evidence.to_owned(),
        programs: vec![server.finish(), client],
    })
}
