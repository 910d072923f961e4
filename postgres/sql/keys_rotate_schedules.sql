SELECT name, input FROM schedules WHERE substring(input from 1 for $2) <> $1;
