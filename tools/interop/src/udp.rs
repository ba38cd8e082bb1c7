//! UDP 的几对:教程风格的客户端对第 1、3 课的服务器,第 2 课的客户端对教程风格的服务器。

use std::time::Duration;

use anyhow::Result;

use crate::{Lab, MESSAGE, Outcome, Trial};

/// 客户端最多等回复 5 秒;再给启动和退出留些余量。
const CLIENT_EXIT: Duration = Duration::from_secs(15);
/// 一次性的服务器回复以后自己退出,最多等这么久。
const SERVER_EXIT: Duration = Duration::from_secs(5);

/// 01:教程风格的 UDP 客户端 → 第 1 课的服务器(回声,回复以后退出)。
pub(crate) fn client_to_01(lab: &Lab, _flags: &[&str]) -> Result<Trial> {
    client_to_echo(lab, "01", &[MESSAGE], true)
}

/// 03:教程风格的 UDP 客户端,运行两次 → 第 3 课的服务器(回声,一直服务)。
pub(crate) fn client_to_03(lab: &Lab, _flags: &[&str]) -> Result<Trial> {
    client_to_echo(lab, "03", &[MESSAGE, "第二个客户端"], false)
}

/// `server_exits`:服务器回复一次以后自己退出(第 1 课);否则它一直服务,演示完结束它(第 3 课)。
fn client_to_echo(lab: &Lab, lesson: &str, messages: &[&str], server_exits: bool) -> Result<Trial> {
    let (mut server, addr) = lab.rust_server(lesson, &[])?;
    let port = addr.port().to_string();
    let mut programs = Vec::new();
    let mut echoed = 0;
    for message in messages {
        let args = ["--port", port.as_str(), "--message", message];
        let client = lab
            .python("udp_client.py", "客户端", &args)?
            .run_to_end(CLIENT_EXIT);
        if client.code == Some(0) && client.stdout == format!("服务器回复: {message}\n") {
            echoed += 1;
        }
        programs.push(client);
    }
    if server_exits {
        server.wait_exit(SERVER_EXIT);
    }
    programs.insert(0, server.finish());
    let (outcome, evidence) = if echoed == messages.len() {
        (Outcome::Works, "客户端打印的回复,就是它发出的那句话。")
    } else {
        (Outcome::Fails, "客户端没有收到自己那句话的回声。")
    };
    Ok(Trial {
        outcome,
        evidence: evidence.to_owned(),
        programs,
    })
}

/// 02:第 2 课的客户端 → 教程风格的 UDP 服务器。没有开关时它收一个就退出(原教程的案例 01),
/// `--forever` 时一直服务(另一篇教程的写法)。
pub(crate) fn solution02_to(lab: &Lab, flags: &[&str]) -> Result<Trial> {
    let (mut server, addr) = lab.python_server("udp_server.py", flags)?;
    let port = addr.port().to_string();
    let args = ["--port", port.as_str(), "--message", MESSAGE];
    let client = lab
        .rust("02", "客户端", &args, false)?
        .run_to_end(CLIENT_EXIT);
    if flags.is_empty() {
        server.wait_exit(SERVER_EXIT);
    }
    let server = server.finish();
    let (outcome, evidence) = if client.code == Some(0)
        && client.stdout.contains("服务器回复: 我收到了你的消息\n")
    {
        (Outcome::Works, "客户端打印了服务器回的那句话,退出码 0。")
    } else {
        (Outcome::Fails, "客户端没有打印服务器回的那句话。")
    };
    Ok(Trial {
        outcome,
        evidence: evidence.to_owned(),
        programs: vec![server, client],
    })
}
